// Markdown to safe DOM: marked renders, DOMPurify sanitises (no scripts, no event handlers, no
// javascript: URLs), then code blocks get a header with their language and a copy button.
import { marked } from 'marked';
import DOMPurify from 'dompurify';

marked.setOptions({ gfm: true, breaks: false });

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer nofollow');
  }
});

const PURIFY = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'img'],
  FORBID_ATTR: ['style'],
};

export function renderMarkdown(target, text) {
  const html = DOMPurify.sanitize(marked.parse(text || ''), PURIFY);
  target.innerHTML = html;
  target.querySelectorAll('pre').forEach(decorateCodeBlock);
}

function decorateCodeBlock(pre) {
  const code = pre.querySelector('code');
  const language = code && /language-([\w+-]+)/.exec(code.className || '');
  const wrapper = document.createElement('div');
  wrapper.className = 'code-block';
  const bar = document.createElement('div');
  bar.className = 'code-bar';
  const label = document.createElement('span');
  label.textContent = language ? language[1] : 'code';
  const copy = document.createElement('button');
  copy.type = 'button';
  copy.className = 'copy-code';
  copy.textContent = 'Copy';
  copy.setAttribute('aria-label', 'Copy code');
  copy.addEventListener('click', async () => {
    const text = (code || pre).textContent;
    try {
      await navigator.clipboard.writeText(text);
      copy.textContent = 'Copied';
    } catch {
      copy.textContent = 'Copy failed';
    }
    setTimeout(() => (copy.textContent = 'Copy'), 1500);
  });
  bar.append(label, copy);
  pre.replaceWith(wrapper);
  wrapper.append(bar, pre);
}
