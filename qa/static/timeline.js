
const pick = (item) => {
  element.querySelectorAll('.qa-tl-item')
    .forEach((x) => x.classList.toggle('qa-active', x === item));
  trigger('click', {doc: item.dataset.doc});
};
element.addEventListener('click', (ev) => {
  const item = ev.target.closest('.qa-tl-item');
  if (item) pick(item);
});
element.addEventListener('keydown', (ev) => {
  const item = ev.target.closest('.qa-tl-item');
  if (item && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); pick(item); }
});
