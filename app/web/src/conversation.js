// The conversation pane: user messages, assistant turns built from history or from live turn
// updates (text, tool cards, usage, done, error), each turn applying an update at most once (by
// its per-turn seq), so replays after a reconnect change nothing.
import { renderMarkdown } from './markdown.js';

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function pretty(value) {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

const APPROVAL_OUTCOMES = {
  approved: 'Allowed.',
  denied: 'Denied.',
  timed_out: 'Not answered in time.',
  cancelled: 'Cancelled before an answer.',
};

class AssistantTurn {
  constructor(turnId) {
    this.turnId = turnId;
    this.lastSeq = 0;
    this.finished = false;
    this.tools = new Map();
    this.approvals = new Map();
    this.textBlock = null;
    this.node = el('article', 'message assistant');
    this.node.setAttribute('data-testid', 'message');
    this.node.setAttribute('data-role', 'assistant');
    if (turnId) this.node.dataset.turnId = turnId;
    const avatar = el('div', 'avatar', 'A');
    avatar.setAttribute('aria-hidden', 'true');
    this.body = el('div', 'message-body');
    this.footer = el('div', 'message-footer');
    const column = el('div', 'message-column');
    column.append(this.body, this.footer);
    this.node.append(avatar, column);
    this.setStreaming(true);
  }

  setStreaming(streaming) {
    this.node.classList.toggle('streaming', streaming);
    this.node.setAttribute('aria-busy', streaming ? 'true' : 'false');
  }

  reset() {
    this.body.replaceChildren();
    this.footer.replaceChildren();
    this.tools.clear();
    this.approvals.clear();
    this.textBlock = null;
    this.lastSeq = 0;
    this.finished = false;
    this.setStreaming(true);
  }

  addText(text) {
    if (!this.textBlock) {
      const node = el('div', 'markdown');
      this.body.append(node);
      this.textBlock = { node, text: '', scheduled: false };
    }
    const block = this.textBlock;
    block.text += text;
    if (!block.scheduled) {
      block.scheduled = true;
      requestAnimationFrame(() => {
        block.scheduled = false;
        renderMarkdown(block.node, block.text);
      });
    }
  }

  addToolCall({ call_id: callId, name, input }) {
    this.textBlock = null;
    const card = el('details', 'tool-card running');
    card.setAttribute('data-testid', 'tool-call');
    const summary = el('summary');
    const icon = el('span', 'tool-icon', '⚙');
    icon.setAttribute('aria-hidden', 'true');
    const label = el('span', 'tool-name', name || 'tool');
    const status = el('span', 'tool-status', 'running…');
    summary.append(icon, label, status);
    const inputSection = el('div', 'tool-section');
    inputSection.append(el('div', 'tool-label', 'Input'), el('pre', 'tool-pre', pretty(input ?? {})));
    const resultSection = el('div', 'tool-section tool-result');
    resultSection.hidden = true;
    card.append(summary, inputSection, resultSection);
    this.body.append(card);
    this.tools.set(callId, { card, status, resultSection });
    return card;
  }

  setToolResult({ call_id: callId, output, is_error: isError }) {
    let tool = this.tools.get(callId);
    if (!tool) {
      this.addToolCall({ call_id: callId, name: 'tool', input: {} });
      tool = this.tools.get(callId);
    }
    tool.card.classList.remove('running');
    tool.card.classList.toggle('failed', !!isError);
    tool.status.textContent = isError ? 'failed' : 'done';
    tool.resultSection.replaceChildren(el('div', 'tool-label', isError ? 'Error' : 'Result'), el('pre', 'tool-pre', pretty(output ?? '')));
    tool.resultSection.hidden = false;
    // A call that was waiting for approval and got its result another way (timed out, answered
    // in another tab): the prompt is no longer a question.
    const approval = this.approvals.get(callId);
    if (approval && approval.open) approval.close('No longer waiting for an answer.');
  }

  addApproval({ call_id: callId, name, input }, onDecision) {
    // Once per call: the stored copy and a replayed update may both ask.
    if (this.approvals.has(callId)) return;
    const box = el('div', 'approval');
    box.setAttribute('role', 'group');
    box.append(el('p', 'approval-text', `The agent wants to run “${name || 'a tool'}”.`), el('pre', 'tool-pre', pretty(input ?? {})));
    const allow = el('button', 'approve', 'Allow');
    const deny = el('button', 'deny', 'Deny');
    allow.type = deny.type = 'button';
    const entry = {
      open: true,
      close: (text) => {
        entry.open = false;
        box.replaceChildren(el('p', 'approval-text', text));
      },
    };
    this.approvals.set(callId, entry);
    const decide = async (approved) => {
      allow.disabled = deny.disabled = true;
      try {
        await onDecision(callId, approved);
        entry.close(approved ? 'Allowed.' : 'Denied.');
      } catch (error) {
        allow.disabled = deny.disabled = false;
        box.append(el('p', 'inline-error', error.message));
      }
    };
    allow.addEventListener('click', () => decide(true));
    deny.addEventListener('click', () => decide(false));
    const actions = el('div', 'approval-actions');
    actions.append(allow, deny);
    box.append(actions);
    this.body.append(box);
  }

  // How a call that needed approval was decided, as the closed prompt says it.
  addApprovalOutcome({ call_id: callId, approval }) {
    if (this.approvals.has(callId)) return;
    const text = APPROVAL_OUTCOMES[approval] ?? 'No longer waiting for an answer.';
    const box = el('div', 'approval');
    box.setAttribute('role', 'group');
    box.append(el('p', 'approval-text', text));
    this.approvals.set(callId, { open: false, close: () => {} });
    this.body.append(box);
  }

  setUsage(inputTokens, outputTokens) {
    let usage = this.footer.querySelector('.usage');
    if (!usage) {
      usage = el('span', 'usage');
      this.footer.append(usage);
    }
    usage.textContent = `${inputTokens ?? 0} in · ${outputTokens ?? 0} out tokens`;
    usage.title = 'Tokens used by this turn';
  }

  finish(stopReason) {
    this.finished = true;
    this.setStreaming(false);
    if (this.textBlock) renderMarkdown(this.textBlock.node, this.textBlock.text);
    if (stopReason === 'cancelled') this.note('Stopped');
    else if (stopReason === 'interrupted') this.note('Interrupted');
    for (const tool of this.tools.values()) {
      if (tool.card.classList.contains('running')) {
        tool.card.classList.remove('running');
        tool.status.textContent = 'no result';
      }
    }
  }

  note(text) {
    const note = el('span', 'turn-note', text);
    this.footer.prepend(note);
  }

  fail(code, message) {
    this.finish('error');
    const box = el('div', 'turn-error');
    box.setAttribute('role', 'alert');
    box.append(el('strong', null, code === 'model_error' || !code ? 'The model failed' : `Error: ${code}`), el('span', null, message || 'The turn ended with an error.'));
    this.body.append(box);
  }
}

export class Conversation {
  constructor(container, welcome, { onApproval }) {
    this.container = container;
    this.welcome = welcome;
    this.onApproval = onApproval;
    this.turns = new Map();
    this.order = [];
  }

  clear() {
    this.turns.clear();
    this.container.querySelectorAll('.message').forEach((n) => n.remove());
    this.welcome.hidden = false;
  }

  nearBottom() {
    const c = this.container;
    return c.scrollHeight - c.scrollTop - c.clientHeight < 120;
  }

  scrollToEnd(force) {
    if (force || this.nearBottom()) this.container.scrollTop = this.container.scrollHeight;
  }

  append(node) {
    this.welcome.hidden = true;
    const stick = this.nearBottom();
    this.container.append(node);
    if (stick) this.scrollToEnd(true);
  }

  addUserMessage(text) {
    const node = el('article', 'message user');
    node.setAttribute('data-testid', 'message');
    node.setAttribute('data-role', 'user');
    const bubble = el('div', 'bubble', text);
    node.append(bubble);
    this.append(node);
    this.scrollToEnd(true);
    return node;
  }

  turn(turnId) {
    let turn = this.turns.get(turnId);
    if (!turn) {
      turn = new AssistantTurn(turnId);
      this.turns.set(turnId, turn);
      this.append(turn.node);
    }
    return turn;
  }

  runningTurn() {
    for (const turn of this.turns.values()) if (!turn.finished) return turn;
    return null;
  }

  // History from GET /api/sessions/{id}: messages oldest first.
  load(messages) {
    this.clear();
    for (const m of messages) {
      if (m.role === 'user') this.addUserMessage(m.text ?? '');
      else this.fill(this.turn(m.turn_id || `seq-${m.seq}`), m);
    }
    this.scrollToEnd(true);
  }

  // Redraws a turn from its stored message (the store is the truth: after a turn ends, or when
  // live updates were lost while the hub was away). Returns false while it is still running.
  redraw(message) {
    if (!message || message.role !== 'assistant' || !message.turn_id) return false;
    const turn = this.turns.get(message.turn_id);
    if (!turn || message.status === 'running') return false;
    turn.reset();
    this.fill(turn, message);
    return true;
  }

  fill(turn, m) {
    for (const block of m.content || []) {
      if (block.type === 'text') turn.addText(block.text || '');
      else if (block.type === 'tool_call') {
        turn.addToolCall(block);
        if ('output' in block) turn.setToolResult(block);
        // After a reload, a call still waiting for the user asks again.
        else if (block.approval === 'pending' && m.status === 'running') {
          turn.addApproval(block, (callId, approved) => this.onApproval(callId, approved));
        }
        // A decided call keeps its answer in the conversation after a redraw or a reload.
        if (block.approval && block.approval !== 'pending') turn.addApprovalOutcome(block);
      }
    }
    if (m.usage && (m.usage.input_tokens || m.usage.output_tokens)) turn.setUsage(m.usage.input_tokens, m.usage.output_tokens);
    if (m.status === 'running') {
      turn.fromHistory = true;
    } else if (m.status === 'error') {
      turn.fail(m.error && m.error.code, m.error && m.error.message);
      turn.lastSeq = Infinity;
    } else {
      turn.finish(m.status === 'complete' ? m.stop_reason : m.status);
      turn.lastSeq = Infinity;
    }
  }

  // One update from the hub. Returns null when it changed nothing (a replay), otherwise
  // {turn, ended}.
  apply(update) {
    if (!update || typeof update !== 'object' || !update.turn_id) return null;
    if (this.turns.get(update.turn_id)?.lastSeq === Infinity) return null;
    const turn = this.turn(update.turn_id);
    const seq = Number(update.seq) || 0;
    if (update.type === 'turn.start' && turn.fromHistory && turn.lastSeq === 0) {
      // A replay from the turn's start: rebuild it from the updates instead of the stored copy.
      turn.reset();
      turn.fromHistory = false;
    }
    if (seq && seq <= turn.lastSeq) return null;
    if (seq) turn.lastSeq = seq;
    // How many live updates this turn took (tests read it to tell a resumed stream from a redraw).
    turn.node.dataset.liveUpdates = String(Number(turn.node.dataset.liveUpdates || 0) + 1);
    switch (update.type) {
      case 'turn.start':
        turn.setStreaming(true);
        break;
      case 'text.delta':
        turn.addText(update.text || '');
        break;
      case 'tool.call':
        turn.addToolCall(update);
        break;
      case 'tool.result':
        turn.setToolResult(update);
        break;
      case 'tool.approval':
      case 'tool.approval_required':
        turn.addApproval(update, (callId, approved) => this.onApproval(callId, approved));
        break;
      case 'usage':
        turn.setUsage(update.input_tokens, update.output_tokens);
        break;
      case 'turn.done':
        turn.finish(update.stop_reason);
        this.scrollToEnd(false);
        return { turn, ended: true };
      case 'turn.error':
        turn.fail(update.code, update.message);
        this.scrollToEnd(false);
        return { turn, ended: true };
      default:
        break;
    }
    this.scrollToEnd(false);
    return { turn, ended: false };
  }
}
