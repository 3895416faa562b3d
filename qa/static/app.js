
() => {
  const CITE = /\[(\d{1,2})\]/g;
  let pending = null;
  const panel = () => document.querySelector('#qa-sources .qa-sources');
  function wrap() {
    document.querySelectorAll('#qa-chat .message.bot, #qa-chat [data-testid="bot"]')
      .forEach((msg) => {
        const walker = document.createTreeWalker(msg, NodeFilter.SHOW_TEXT);
        const hits = [];
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          if (n.parentElement.closest('a, code, pre, button')) continue;
          CITE.lastIndex = 0;
          if (CITE.test(n.nodeValue)) hits.push(n);
        }
        hits.forEach((n) => {
          const text = n.nodeValue;
          const frag = document.createDocumentFragment();
          let last = 0;
          text.replace(CITE, (m, num, off) => {
            frag.append(text.slice(last, off));
            const a = document.createElement('a');
            a.href = '#qa-cite-' + num;
            a.className = 'qa-cite-link';
            a.dataset.cite = num;
            a.title = 'Show source ' + num;
            a.textContent = m;
            frag.append(a);
            last = off + m.length;
            return m;
          });
          frag.append(text.slice(last));
          n.replaceWith(frag);
        });
      });
  }
  function openCite(num) {
    const el = document.getElementById('qa-cite-' + num);
    if (!el) return false;
    document.querySelectorAll('#qa-sources details.qa-cite').forEach((d) => {
      d.open = d === el;
    });
    el.scrollIntoView({block: 'nearest'});
    el.classList.add('qa-flash');
    setTimeout(() => el.classList.remove('qa-flash'), 1500);
    return true;
  }
  document.addEventListener('click', (ev) => {
    const a = ev.target.closest && ev.target.closest('a.qa-cite-link');
    if (!a) return;
    ev.preventDefault();  // no navigation; the chat's select event still fires
    pending = {num: a.dataset.cite, text: panel()?.textContent, t: Date.now()};
    openCite(a.dataset.cite);
  }, true);
  let scheduled = false;
  new MutationObserver(() => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      wrap();
      // Clicking a marker of an older answer swaps the panel to that answer's sources.
      if (pending && panel()?.textContent !== pending.text) {
        if (Date.now() - pending.t < 4000) openCite(pending.num);
        pending = null;
      }
    });
  }).observe(document.body, {childList: true, subtree: true});
}
