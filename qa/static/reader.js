// Runs inside the article reader's gr.HTML: when an article is opened at a cited paragraph,
// scroll that paragraph into view (the reader box, and the page on a phone).
watch('value', () => {
  const target = element.querySelector('.qa-focus');
  if (target) target.scrollIntoView({block: 'center'});
  else element.querySelector('.qa-doc')?.scrollTo(0, 0);
});
