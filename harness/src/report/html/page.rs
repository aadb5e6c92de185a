//! The page around the report: inline style, one inline script (sorting the class table),
//! and a Content-Security-Policy that allows that script by its hash and nothing else: no
//! network, no other script, no inline event handler.

use maud::{html, Markup, PreEscaped, DOCTYPE};
use sha2::Digest;

const CSS: &str = r#"
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
section.submission{content-visibility:auto;contain-intrinsic-size:auto 3000px}
h1{font-size:1.4em}h2{font-size:1.2em;border-top:2px solid #ccc;padding-top:.5em}
table.overview{border-collapse:collapse}table.overview th,table.overview td{border:1px solid #ccc;padding:2px 8px;text-align:right}
table.overview th{cursor:pointer;background:#eee}table.overview td:first-child{text-align:left}
.full{background:#c8f0c8}.partial{background:#fbe7a6}.low{background:#f5b5b5}.none{background:#eee}
details.scenario{margin:.3em 0;border-left:4px solid #999;padding-left:.5em}
details.pass{border-color:#2a2}details.fail,details.timeout,details.error{border-color:#c22}
details.fault{border-color:#808}details.skip{border-color:#999}
.verdict{font-weight:bold;display:inline-block;width:5em}p.passed{border-left:4px solid #2a2;padding-left:.5em;margin:.3em 0}
pre{background:#f6f6f6;padding:.4em;white-space:pre-wrap;overflow-wrap:anywhere;max-height:30em;overflow:auto}
svg{display:block;margin:.3em 0;background:#fcfcfc;border:1px solid #ddd}
svg text{font:10px monospace;fill:#444}svg path.tick{stroke:#e4e4e4}
path.mark{stroke-width:3}path.stdout{stroke:#2a6fdb}path.stderr{stroke:#d9480f}path.harness{stroke:#777}
path.signal{fill:#c2185b}line.signal{stroke:#c2185b;stroke-dasharray:3 2}
rect.proc{fill:#3a9a5b}rect.top{fill:#5b7fa6}rect.zombie{fill:#e8a33d;stroke:#9a5b00}
rect.waited{fill:#bbb}rect.met{fill:#8fc79f}path.deadline{stroke:#333;stroke-width:2}path.missed{stroke:#c22;stroke-width:3}
figure{display:inline-block;margin:.3em}figcaption{font-size:.85em;color:#555}
.caps{color:#555;font-size:.9em}
"#;

/// The overview's sorting: a click on a column head sorts by it (again: the other way); a
/// page opened as `report.html#sort=<column>` (or `#sort=<column>-down`) starts sorted, so a
/// sorted view can be bookmarked or linked.
const SCRIPT: &str = r#"(function(){
function sortBy(th,i,up){
var body=th.closest('table').tBodies[0],rows=Array.prototype.slice.call(body.rows);
th.setAttribute('data-dir',up?'up':'down');
rows.sort(function(a,b){var x=a.cells[i].getAttribute('data-v')||'',y=b.cells[i].getAttribute('data-v')||'';
var nx=parseFloat(x),ny=parseFloat(y),c=(isNaN(nx)||isNaN(ny))?x.localeCompare(y):nx-ny;return up?c:-c;});
rows.forEach(function(r){body.appendChild(r);});}
var m=/^#sort=([A-Za-z0-9_.]+?)(-down)?$/.exec(location.hash);
document.querySelectorAll('table.overview th').forEach(function(th,i){
th.addEventListener('click',function(){sortBy(th,i,th.getAttribute('data-dir')!=='up');});
if(m&&th.textContent===m[1]){sortBy(th,i,!m[2]);}});
document.body.setAttribute('data-ready','1');
})();"#;

/// The policy: inline styles and data: images, this page's one script by hash, nothing else.
pub fn csp() -> String {
    let hash = crate::picture::base64(&sha2::Sha256::digest(SCRIPT.as_bytes()));
    format!(
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{hash}'; base-uri 'none'; form-action 'none'"
    )
}

/// A whole page: `title`, then `body`.
pub fn shell(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(csp());
                meta name="viewport" content="width=device-width";
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                (body)
                script { (PreEscaped(SCRIPT)) }
            }
        }
    }
    .into_string()
}
