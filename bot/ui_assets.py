"""The web app's stylesheet and script: colours for light and dark, the phone layout, the viewer and previews.

Colours are our own variables, set for light and for Gradio's `.dark`, each pair checked for 4.5:1 contrast.
"""

CSS = """
:root{--fz-link:#0550ae;--fz-muted:#57606a;--fz-text:#1f2328;--fz-quote:#1f2328;--fz-rule:#d0d7de;
--fz-refusal-bg:#fff8e1;--fz-refusal-fg:#3d2e00;--fz-refusal-rule:#b58100;--fz-draft-bg:#f6f8fa;
--fz-pop-bg:#ffffff;--fz-bar:#2f6fdb;--fz-track:#eaeef2}
.dark{--fz-link:#79c0ff;--fz-muted:#b1bac4;--fz-text:#e6edf3;--fz-quote:#e6edf3;--fz-rule:#3d444d;
--fz-refusal-bg:#3b2f0b;--fz-refusal-fg:#f8e3a1;--fz-refusal-rule:#d4a72c;--fz-draft-bg:#161b22;
--fz-pop-bg:#161b22;--fz-bar:#4493f8;--fz-track:#30363d}
.gradio-container{max-width:1600px !important}
#title h2{margin:0;font-size:1.2rem} #title p{margin:.1rem 0 0 0;color:var(--fz-muted);font-size:.85rem}
.answer{color:var(--fz-text)}
.answer .cite,.sources .cite,.figures .cite{font-weight:600;text-decoration:none;color:var(--fz-link)}
.refusal{background:var(--fz-refusal-bg);color:var(--fz-refusal-fg);border-left:4px solid var(--fz-refusal-rule);
padding:.5rem .75rem;border-radius:4px}
.refusal .cite{color:var(--fz-refusal-fg);text-decoration:underline}
.scope,.notice{font-size:.8rem;color:var(--fz-muted);margin-bottom:.3rem}
.sources{margin-top:.5rem;border-top:1px solid var(--fz-rule);padding-top:.3rem}
.sources summary{cursor:pointer;color:var(--fz-muted);font-weight:600}
.source{margin:.4rem 0} .source .facts{font-size:.8rem;color:var(--fz-muted)}
.sources blockquote{margin:.25rem 0 .5rem 0;padding-left:.6rem;border-left:3px solid var(--fz-rule);
color:var(--fz-quote)}
.draft{background:var(--fz-draft-bg);color:var(--fz-text);border:1px dashed var(--fz-rule);padding:.4rem .6rem;
border-radius:4px}
.draft-label{font-size:.75rem;font-weight:600;color:var(--fz-muted)}
.working,.stopped{color:var(--fz-muted)}
.spinner{display:inline-block;width:.8rem;height:.8rem;margin-right:.4rem;border:2px solid var(--fz-rule);
border-top-color:var(--fz-link);border-radius:50%;animation:fz-spin .8s linear infinite;vertical-align:-.1rem}
@keyframes fz-spin{to{transform:rotate(360deg)}}
#fz-preview{position:fixed;z-index:2000;max-width:min(28rem,90vw);background:var(--fz-pop-bg);
color:var(--fz-text);border:1px solid var(--fz-rule);border-radius:6px;padding:.5rem .7rem;font-size:.85rem;
line-height:1.5;box-shadow:0 4px 16px rgba(0,0,0,.25)}
#fz-preview button{margin-top:.4rem;font-weight:600;color:var(--fz-link);background:none;border:1px solid
var(--fz-rule);border-radius:4px;padding:.2rem .5rem;cursor:pointer}
#viewer-panel{position:sticky;top:.5rem;align-self:flex-start}
#viewer iframe{width:100%;height:calc(100vh - 7.5rem);border:1px solid var(--fz-rule);border-radius:6px;
background:var(--fz-pop-bg)}
#viewer-back{display:none}
.table-wrap{overflow-x:auto}
table.reports,table.figures{border-collapse:collapse;width:100%;font-size:.85rem;color:var(--fz-text)}
table.reports td,table.reports th,table.figures td,table.figures th{border-bottom:1px solid var(--fz-rule);
padding:.3rem .5rem;text-align:left;vertical-align:top}
td.num{text-align:right;white-space:nowrap}
table.reports th:first-child{min-width:11rem} table.reports th{min-width:4.5rem}
.chart{display:flex;flex-direction:column;gap:.35rem;margin:.5rem 0}
.bar-row{display:grid;grid-template-columns:minmax(6rem,10rem) 1fr minmax(4rem,auto);gap:.5rem;align-items:center;
text-decoration:none;color:var(--fz-text)}
.bar-row:hover .bar,.bar-row:focus .bar{filter:brightness(1.2)}
.bar-track{background:var(--fz-track);border-radius:3px;height:1.1rem;display:block}
.bar{display:block;height:100%;background:var(--fz-bar);border-radius:3px}
.bar-value{font-weight:600;color:var(--fz-link)}
#filters{gap:.5rem} #filters .form{flex-wrap:wrap !important}
#filters .form>*{min-width:8rem !important;flex:1 1 8rem !important}
#filters .block{padding:.3rem .5rem} #filters label span{margin-bottom:.15rem}
#title{padding:0 !important} #ask-row{gap:.4rem} #ask-row button{white-space:nowrap}
#examples{padding:.2rem .4rem !important} #examples .label{margin-bottom:.2rem}
#examples button{padding:.15rem .5rem !important;font-size:.85rem}
#question textarea::placeholder{color:var(--fz-muted);opacity:1}
#ask{background:#c2410c;border-color:#c2410c;color:#fff} #ask:hover{background:#9a3412}
@media (max-width: 768px){
  #viewer-panel{display:none !important}
  #viewer-panel.open{display:flex !important;position:fixed;inset:0;z-index:2500;padding:.5rem;
    background:var(--body-background-fill);overflow:hidden}
  #viewer-panel.open #viewer iframe{height:calc(100vh - 5rem)}
  #viewer-back{display:block}
  .bar-row{grid-template-columns:6rem 1fr auto}
}
@media (pointer: coarse){#chat button.icon-button{min-width:2.25rem;min-height:2.25rem}}
"""

# Citation links carry target="viewer", so they work without this script; with it, the page never scrolls to
# the passage (the viewer does, leaving context above), hover or a first tap previews, and on a phone the
# viewer opens over the chat with a way back.
JS = """
<script>
(() => {
  const narrow = () => matchMedia('(max-width: 768px)').matches;
  // Gradio scopes custom CSS inside media queries to its container, so the phone overlay is a class on the panel.
  const panel = (open) => {
    const p = document.getElementById('viewer-panel'); if (p) p.classList.toggle('open', open); };
  let pop = null, popFor = null, hideTimer = null;
  const hide = () => { if (pop) { pop.remove(); pop = null; popFor = null; } };
  const show = (a, withButton) => {
    hide();
    pop = document.createElement('div'); pop.id = 'fz-preview'; pop.setAttribute('role', 'tooltip');
    const text = document.createElement('div'); text.textContent = a.dataset.preview || ''; pop.append(text);
    if (withButton) {
      const b = document.createElement('button'); b.type = 'button'; b.textContent = '打开原文 Open the passage';
      b.addEventListener('click', () => { hide(); openViewer(a.href); }); pop.append(b);
    }
    document.body.append(pop); popFor = a;
    const r = a.getBoundingClientRect(), h = pop.offsetHeight;
    pop.style.left = Math.max(8, Math.min(r.left, innerWidth - pop.offsetWidth - 8)) + 'px';
    pop.style.top = (r.bottom + h + 8 < innerHeight ? r.bottom + 6 : Math.max(8, r.top - h - 6)) + 'px';
  };
  const scrollToHit = (frame) => {
    const doc = frame.contentDocument, mark = doc && doc.getElementById('hit');
    if (!mark) return;
    const scroller = doc.scrollingElement || doc.documentElement;
    const top = mark.getBoundingClientRect().top + scroller.scrollTop;
    scroller.scrollTop = Math.max(0, top - frame.clientHeight * 0.3);
  };
  const openViewer = (href) => {
    const frame = document.querySelector('#viewer iframe');
    if (!frame) { location.href = href; return; }
    const url = href.split('#')[0];
    frame.onload = () => scrollToHit(frame);
    if (frame.hasAttribute('srcdoc')) frame.removeAttribute('srcdoc');  // the hint: srcdoc would win over src
    if (frame.src === url) scrollToHit(frame); else frame.src = url;
    panel(true);
    // On a phone the viewer covers the chat: it becomes a history entry, so the system Back gesture closes it
    // instead of leaving the app (and the chat with it).
    if (narrow() && !(history.state && history.state.fzViewer)) history.pushState({fzViewer: true}, '');
  };
  addEventListener('popstate', () => { panel(false); hide(); });
  window.fzCloseViewer = (blank) => {
    if (history.state && history.state.fzViewer) { history.back(); }
    panel(false);
    const frame = document.querySelector('#viewer iframe');
    if (blank && frame) { frame.src = 'about:blank'; frame.srcdoc = frame.dataset.hint || ''; }
    hide();
  };
  document.addEventListener('click', (e) => {
    if (e.target.closest && e.target.closest('#viewer-back')) { window.fzCloseViewer(false); return; }
    const a = e.target.closest && e.target.closest('a[target="viewer"]');
    if (!a) { if (pop && !pop.contains(e.target)) hide(); return; }
    e.preventDefault();
    const touch = matchMedia('(hover: none)').matches;
    if (touch && popFor !== a && a.dataset.preview) { show(a, true); return; }
    hide(); openViewer(a.href);
  }, true);
  document.addEventListener('mouseover', (e) => {
    const a = e.target.closest && e.target.closest('a.cite[data-preview]');
    if (!a || narrow()) return;
    clearTimeout(hideTimer); if (popFor !== a) show(a, false);
  });
  document.addEventListener('mouseout', (e) => {
    const a = e.target.closest && e.target.closest('a.cite[data-preview]');
    // A tapped preview stays until the next tap: touch screens send a mouseout right after the tap.
    if (a && popFor === a && !pop.querySelector('button')) {
      clearTimeout(hideTimer); hideTimer = setTimeout(hide, 250); }
  });
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape') window.fzCloseViewer(false); });
})();
</script>
"""

NEW_CHAT_JS = "() => { if (window.fzCloseViewer) window.fzCloseViewer(true); }"

# Deleting an upload cannot be undone: the browser asks first. A cancelled dialog sends no choice and says it
# was cancelled, so the status does not ask the user to choose a report they had chosen.
CONFIRM_DELETE_JS = (
    "(c, _) => !c ? [null, ''] : confirm('删除这份上传的报告？此操作无法撤销。"
    "Delete this uploaded report? This cannot be undone.') ? [c, ''] : [null, 'cancelled']"
)
