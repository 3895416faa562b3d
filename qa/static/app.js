() => {
  const CITE = /\[(\d{1,2})\]/g;
  const NARROW = '(max-width: 760px)';  // the phone layout of app.css
  let pending = null;
  let docTarget = null;  // {doc, para} a source card asked the Documents tab to show
  let lastLink = null;  // the [n] that opened the drawer: "Back to the answer" returns to it
  const panel = () => document.querySelector('#qa-sources .qa-sources');
  const narrow = () => window.matchMedia(NARROW).matches;
  // The drawer's class sits on the chat row: Gradio scopes app.css inside its container.
  const drawer = (on) => document.getElementById('qa-chat-row')?.classList.toggle('qa-drawer-open', on);
  const drawerOpen = () => !!document.querySelector('#qa-chat-row.qa-drawer-open');
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
    if (narrow()) {
      drawer(true);
      const col = document.getElementById('qa-sources-col');
      if (col) col.scrollTop = Math.max(0, el.offsetTop - col.offsetTop - 8);
    } else {
      el.scrollIntoView({block: 'nearest'});
    }
    el.classList.add('qa-flash');
    setTimeout(() => el.classList.remove('qa-flash'), 1500);
    return true;
  }
  function closeDrawer() {
    drawer(false);
    pending = null;  // closed by hand: the next answer must not open it again
    if (lastLink && lastLink.isConnected) {
      lastLink.scrollIntoView({block: 'center'});
      lastLink.focus({preventScroll: true});
    }
  }
  function tab(name) {
    return [...document.querySelectorAll('button[role="tab"]')]
      .find((b) => b.textContent.trim() === name);
  }
  function showDocTarget() {
    if (!docTarget) return;
    const doc = document.querySelector('#qa-doc .qa-doc');
    const item = document.querySelector(
      `#qa-timeline .qa-tl-item[data-doc="${CSS.escape(docTarget.doc)}"]`);
    if (!doc || doc.dataset.doc !== docTarget.doc) {
      // The articles list is the Documents tab's "Articles" view: show it, then open the article.
      const arts = tab('Articles');
      if (arts && arts.getAttribute('aria-selected') !== 'true' && !docTarget.clicked) {
        arts.click();
        return;
      }
      if (item && !docTarget.clicked) { docTarget.clicked = true; item.click(); }
      return;
    }
    const top = docTarget.para === 0;
    const p = top ? doc : document.getElementById('qa-doc-p' + docTarget.para);
    docTarget = null;
    if (!p) return;
    const block = narrow() || top ? 'start' : 'center';
    p.scrollIntoView({block});
    // The reader resets its box to the top when an article arrives (reader.js): scroll again after.
    setTimeout(() => p.scrollIntoView({block}), 120);
    if (top) return;
    p.classList.add('qa-flash');
    setTimeout(() => p.classList.remove('qa-flash'), 2500);
  }
  document.addEventListener('click', (ev) => {
    const t = ev.target;
    if (!t.closest) return;
    if (t.closest('#qa-drawer-close')) { ev.preventDefault(); closeDrawer(); return; }
    const open = t.closest('a.qa-open-doc');
    if (open) {
      ev.preventDefault();
      drawer(false);
      docTarget = {doc: open.dataset.doc, para: open.dataset.para, clicked: false};
      const b = tab('Documents');
      if (b) b.click();
      setTimeout(showDocTarget, 50);
      return;
    }
    if (t.closest('a.qa-back')) {  // the list lives in the Documents tab's "Articles" view
      ev.preventDefault();
      const arts = tab('Articles');
      if (arts) arts.click();
      setTimeout(() => document.getElementById('qa-timeline')?.scrollIntoView({block: 'start'}), 50);
      return;
    }
    const item = t.closest('#qa-timeline .qa-tl-item');
    if (item && narrow() && !docTarget) {
      // Phone: the reader sits below the timeline; go to it once the article arrives.
      docTarget = {doc: item.dataset.doc, para: 0, clicked: true};
      return;
    }
    const a = t.closest('a.qa-cite-link');
    if (!a) return;
    ev.preventDefault();  // no navigation; the chat's select event still fires
    lastLink = a;
    pending = {num: a.dataset.cite, text: panel()?.textContent, t: Date.now()};
    openCite(a.dataset.cite);
  }, true);
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && drawerOpen()) closeDrawer();
  });
  let scheduled = false;
  new MutationObserver(() => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      wrap();
      showDocTarget();
      // Gradio's empty File/Image boxes carry an aria-label without a role (axe:
      // aria-prohibited-attr); as images they may.
      document.querySelectorAll('.unpadded_box[aria-label]:not([role])')
        .forEach((e) => e.setAttribute('role', 'img'));
      // The chat's example cards sit in a role=list without list items (axe: aria-required-children).
      document.querySelectorAll('#qa-chat .examples[role="list"]')
        .forEach((e) => e.removeAttribute('role'));
      // Clicking a marker of an older answer swaps the panel to that answer's sources.
      if (pending && panel()?.textContent !== pending.text) {
        if (Date.now() - pending.t < 4000) openCite(pending.num);
        pending = null;
      }
    });
  }).observe(document.body, {childList: true, subtree: true});
}
