//! The HTML shell: header, summary, failures, the SVG, a per-topic table, CSS and JS inline.

use std::fmt::Write as _;

use super::escape::{esc, truncate};
use super::model::Model;
use super::ReportOptions;

const CSS: &str = r#"
body{font:13px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:16px;color:#1d2330;background:#fff}
h1{font-size:19px;margin:0 0 4px}
.meta{color:#566;margin-bottom:8px}
.fails{border-left:4px solid #d22;background:#fff1f1;padding:6px 10px;margin:8px 0}
.fails li{color:#a11}
.legend span{margin-right:14px}
.sw{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
#filter{margin:6px 0;padding:3px 6px;width:260px}
svg{display:block;font-size:11px}
.lbl,.sec{text-anchor:end;fill:#1d2330}
.sec{font-weight:600}
.muted{fill:#8a93a3;text-anchor:end}
.bg.even{fill:#f4f6fa}.bg.hb{fill:#eef8f0}.peersbg{fill:#f7f7fb}
.grid{stroke:#e2e5ec}
.axl{fill:#566;text-anchor:middle}.axt{fill:#566;text-anchor:end;font-style:italic}
.tk{fill:#2f6fdf}.tk.in{fill:#9a5bd6}.tk.hbk{fill:#1f9d4a}
.tk:hover,.peerd:hover{fill:#f0a000}
.on{fill:#bfe8c8}.off{fill:#f6c5c5}.unk{fill:#e6e6e6}
.bandt{fill:#244}
.peers{fill:none;stroke:#e07a10;stroke-width:2}.peerd{fill:#e07a10}
.cad{fill:#777}.cadm{fill:#777}.cadl{stroke:#999;stroke-dasharray:3 3}
.failt{fill:#d22;font-weight:600}.fail line{stroke:#d22;stroke-width:2}.fail text{fill:#d22;font-weight:600}.failc{fill:#d22}
.lane.dim{opacity:.15}
table{border-collapse:collapse;margin-top:14px}
td,th{border:1px solid #dde;padding:2px 6px;text-align:left;vertical-align:top}
td.p{font-family:ui-monospace,monospace;max-width:520px;overflow-wrap:anywhere}
#tip{position:absolute;display:none;background:#1d2330;color:#fff;padding:4px 7px;border-radius:4px;white-space:pre-wrap;max-width:480px;pointer-events:none;font-family:ui-monospace,monospace;font-size:12px}
"#;

// Progressive enhancement: SVG <title> tooltips work without JS; with JS they become one
// styled tooltip (text only: textContent, never HTML), and the filter dims unrelated lanes.
const JS: &str = r#"
(function(){
var tip=document.getElementById('tip'),svg=document.getElementById('tl');
svg.querySelectorAll('title').forEach(function(t){var p=t.parentNode;p.setAttribute('data-tip',t.textContent);p.removeChild(t);});
svg.addEventListener('mousemove',function(e){var el=e.target.closest('[data-tip]');if(!el){tip.style.display='none';return;}
tip.textContent=el.getAttribute('data-tip');tip.style.display='block';tip.style.left=(e.pageX+14)+'px';tip.style.top=(e.pageY+14)+'px';});
svg.addEventListener('mouseleave',function(){tip.style.display='none';});
document.getElementById('filter').addEventListener('input',function(){var q=this.value.toLowerCase();
svg.querySelectorAll('.lane').forEach(function(g){g.classList.toggle('dim',q!==''&&g.getAttribute('data-topic').toLowerCase().indexOf(q)<0);});});
})();
"#;

/// The page around the SVG.
pub fn page(m: &Model, opts: &ReportOptions, svg: &str) -> String {
    let mut h = String::with_capacity(svg.len() + 16 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{CSS}</style></head><body>",
        esc(&opts.title)
    );
    let _ = write!(h, "<h1>{}</h1>", esc(&opts.title));
    let _ = write!(
        h,
        r#"<div class="meta">{} records · {} publishes on {} topics · {} cadence passes · {} client(s) · profile <b>{}</b> · prefix <code>{}</code> · t = {}…{} s ({})</div>"#,
        m.records,
        m.publishes,
        m.lanes.len(),
        m.cadence.len(),
        m.clients.len(),
        esc(m.profile.as_deref().unwrap_or("none")),
        esc(&m.prefix),
        m.t0.floor(),
        m.t1.ceil(),
        if m.virtual_time { "virtual" } else { "wall" }
    );
    if !m.failures.is_empty() {
        h.push_str(r#"<div class="fails"><b>Failing assertions</b><ul>"#);
        for f in &m.failures {
            let _ = write!(
                h,
                "<li>t={} s{}: {}</li>",
                f.t,
                f.topic
                    .as_deref()
                    .map(|t| format!(" — <code>{}</code>", esc(t)))
                    .unwrap_or_default(),
                esc(&f.message)
            );
        }
        h.push_str("</ul></div>");
    }
    h.push_str(concat!(
        r#"<div class="legend">"#,
        r#"<span><i class="sw" style="background:#2f6fdf"></i>module publish</span>"#,
        r#"<span><i class="sw" style="background:#9a5bd6"></i>publish to the module</span>"#,
        r#"<span><i class="sw" style="background:#1f9d4a"></i>client heartbeat</span>"#,
        r#"<span><i class="sw" style="background:#bfe8c8"></i>connected</span>"#,
        r#"<span><i class="sw" style="background:#f6c5c5"></i>disconnected</span>"#,
        r#"<span><i class="sw" style="background:#e07a10"></i>peers</span>"#,
        r#"<span><i class="sw" style="background:#999"></i>cadence pass</span>"#,
        r#"<span><i class="sw" style="background:#d22"></i>failing assertion</span></div>"#,
        r#"<input id="filter" placeholder="filter topics…" aria-label="filter topics">"#
    ));
    h.push_str(svg);
    h.push_str("<table><tr><th>topic</th><th>publishes</th><th>first t</th><th>last t</th><th>last payload</th></tr>");
    for l in &m.lanes {
        let (first, last) = (l.ticks.first(), l.ticks.last());
        let _ = write!(
            h,
            r#"<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class="p">{}</td></tr>"#,
            esc(&l.topic),
            l.ticks.len(),
            first.map(|t| format!("{:.3}", t.t)).unwrap_or_default(),
            last.map(|t| format!("{:.3}", t.t)).unwrap_or_default(),
            esc(&truncate(
                last.map(|t| t.payload.as_str()).unwrap_or(""),
                200
            ))
        );
    }
    h.push_str("</table><div id=\"tip\"></div>");
    let _ = writeln!(h, "<script>{JS}</script></body></html>");
    h
}
