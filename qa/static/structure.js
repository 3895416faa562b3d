// Runs inside each structure view's gr.HTML (events, people, agreements). A cited sentence's
// "Open" button sends its citation id to Python, which opens the article at that paragraph.
// A dot of the events plot opens its event in the timeline below it.
const openEvent = (id) => {
  const item = element.querySelector(`li.qa-ev[data-event="${CSS.escape(id)}"]`);
  if (!item) return;
  const details = item.querySelector('details');
  details.open = true;
  item.scrollIntoView({block: 'start', behavior: 'smooth'});
  item.classList.add('qa-flash');
  setTimeout(() => item.classList.remove('qa-flash'), 1500);
  details.querySelector('summary').focus({preventScroll: true});
};
element.addEventListener('click', (ev) => {
  const open = ev.target.closest('[data-cite]');
  if (open) {
    ev.preventDefault();
    element.querySelectorAll('.qa-open.qa-active').forEach((b) => b.classList.remove('qa-active'));
    open.classList.add('qa-active');
    trigger('cite', {cite: open.dataset.cite, doc: open.dataset.doc, para: open.dataset.para});
    return;
  }
  const dot = ev.target.closest('[data-goto]');
  if (dot) openEvent(dot.dataset.goto);
});
element.addEventListener('keydown', (ev) => {
  const dot = ev.target.closest('[data-goto]');
  if (dot && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); openEvent(dot.dataset.goto); }
});
