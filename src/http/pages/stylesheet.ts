/*
 * The one stylesheet of the pages. Light and dark (prefers-color-scheme); text colours meet WCAG AA (4.5:1)
 * on their backgrounds; focus is always visible (a 3px outline); one column that fits 360px.
 */
export const STYLESHEET = `*,*::before,*::after{box-sizing:border-box}
:root{--bg:#f6f7f9;--card:#ffffff;--text:#1a1d21;--muted:#4a5260;--border:#b8bfca;--accent:#1f5fbf;
--accent-text:#ffffff;--danger:#a4161a;--focus:#b35c00}
@media (prefers-color-scheme:dark){:root{--bg:#121417;--card:#1d2026;--text:#eceef1;--muted:#b3bac5;
--border:#4a515c;--accent:#8ab4f8;--accent-text:#0b1220;--danger:#ff8a8a;--focus:#ffb454}}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:100%;line-height:1.5}
body{margin:0;background:var(--bg);color:var(--text);min-height:100vh;display:flex;justify-content:center;
align-items:flex-start;padding:2rem 1rem}
main{width:100%;max-width:26rem;background:var(--card);border:1px solid var(--border);border-radius:.5rem;
padding:1.5rem}
header{text-align:center;margin-bottom:1rem}
header img{max-width:8rem;max-height:4rem}
.product{display:block;font-weight:600;color:var(--muted)}
h1{font-size:1.35rem;margin:.25rem 0 1rem}
p{margin:0 0 1rem}
label{display:block;font-weight:600;margin:0 0 .25rem}
input[type=text],input[type=password]{width:100%;font:inherit;padding:.6rem;margin:0 0 1rem;color:var(--text);
background:var(--card);border:1px solid var(--muted);border-radius:.35rem}
button{font:inherit;font-weight:600;padding:.6rem 1.2rem;border-radius:.35rem;cursor:pointer;
border:1px solid var(--accent);background:var(--accent);color:var(--accent-text)}
button.secondary{background:transparent;color:var(--accent)}
.link{border:0;background:none;padding:0;color:var(--accent);text-decoration:underline;font-weight:400}
.actions{display:flex;flex-wrap:wrap;gap:.75rem}
.error{color:var(--danger);font-weight:600}
.scopes{margin:0 0 1rem;padding-left:1.25rem}
.code,#user_code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;letter-spacing:.08em}
.muted{color:var(--muted);font-size:.9rem}
.hint{color:var(--muted);font-size:.9rem;margin:0 0 .35rem}
.signout{margin-top:1.5rem}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
`;
