// The chat list in the sidebar: newest first, the open chat marked, rename in place (Enter saves,
// Escape cancels) and delete with a second click to confirm.
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export class SessionList {
  constructor(list, empty, { onOpen, onRename, onDelete }) {
    this.list = list;
    this.empty = empty;
    this.onOpen = onOpen;
    this.onRename = onRename;
    this.onDelete = onDelete;
    this.sessions = [];
    this.currentId = null;
  }

  set(sessions) {
    this.sessions = sessions.slice();
    this.render();
  }

  upsert(session) {
    this.sessions = [session, ...this.sessions.filter((s) => s.id !== session.id)];
    this.sessions.sort((a, b) => (b.created_at || '').localeCompare(a.created_at || ''));
    this.render();
  }

  remove(id) {
    this.sessions = this.sessions.filter((s) => s.id !== id);
    this.render();
  }

  select(id) {
    this.currentId = id;
    this.list.querySelectorAll('.session-item').forEach((item) => {
      const current = item.dataset.sessionId === id;
      item.classList.toggle('current', current);
      const open = item.querySelector('.session-open');
      if (current) open.setAttribute('aria-current', 'page');
      else open.removeAttribute('aria-current');
    });
  }

  title(id) {
    const s = this.sessions.find((x) => x.id === id);
    return s ? s.title : null;
  }

  render() {
    this.list.replaceChildren(...this.sessions.map((s) => this.item(s)));
    this.empty.hidden = this.sessions.length > 0;
    this.select(this.currentId);
  }

  item(session) {
    const li = el('li', 'session-item');
    li.setAttribute('data-testid', 'session-item');
    li.dataset.sessionId = session.id;
    const open = el('button', 'session-open', session.title || 'New chat');
    open.type = 'button';
    open.title = session.title || 'New chat';
    open.addEventListener('click', () => this.onOpen(session.id));
    const rename = el('button', 'session-action rename', '✎');
    rename.type = 'button';
    rename.setAttribute('aria-label', `Rename “${session.title || 'New chat'}”`);
    rename.addEventListener('click', () => this.startRename(li, session));
    const del = el('button', 'session-action delete', '✕');
    del.type = 'button';
    del.setAttribute('aria-label', `Delete “${session.title || 'New chat'}”`);
    let armed = null;
    del.addEventListener('click', async () => {
      if (!armed) {
        del.classList.add('armed');
        del.textContent = 'Delete?';
        armed = setTimeout(() => {
          armed = null;
          del.classList.remove('armed');
          del.textContent = '✕';
        }, 4000);
        return;
      }
      clearTimeout(armed);
      del.disabled = true;
      await this.onDelete(session.id);
    });
    li.append(open, rename, del);
    return li;
  }

  startRename(li, session) {
    const input = el('input', 'rename-input');
    input.value = session.title || '';
    input.maxLength = 200;
    input.setAttribute('aria-label', 'New chat title');
    const open = li.querySelector('.session-open');
    open.hidden = true;
    li.insertBefore(input, open);
    input.focus();
    input.select();
    let done = false;
    const finish = async (save) => {
      if (done) return;
      done = true;
      const title = input.value.trim();
      input.remove();
      open.hidden = false;
      if (save && title && title !== session.title) await this.onRename(session.id, title);
    };
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        finish(true);
      } else if (e.key === 'Escape') {
        e.preventDefault();
        finish(false);
      }
    });
    input.addEventListener('blur', () => finish(true));
  }
}
