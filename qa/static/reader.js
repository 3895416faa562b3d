// Runs inside the article reader's gr.HTML: when an article is opened at a cited paragraph,
// scroll the reader's box to that paragraph, and the page too only if it is out of sight
// (on a phone the reader sits below the views).
watch('value', () => {
  const box = element.querySelector('.qa-doc');
  const target = element.querySelector('.qa-focus');
  if (!box) return;
  if (!target) { box.scrollTo(0, 0); return; }
  box.scrollTop += target.getBoundingClientRect().top - box.getBoundingClientRect().top - 24;
  const r = target.getBoundingClientRect();
  if (r.top < 0 || r.bottom > window.innerHeight) target.scrollIntoView({block: 'center'});
});
