/*
 * The status page at /: one server-rendered HTML page for a NOC wall
 * screen, CSS and script inline, no external asset. Domains worst first.
 * Those that need someone (not ok, a DS to add or remove, a rotation
 * waiting for its DS) get a compact card: state, times relative to now
 * ("signatures expire in 29d 23h"), the countdown to the registrar
 * deadline and the problem codes; the messages, the DS records to copy
 * and the key timeline are folded inside it, so that 20 cards and more
 * fit a 1920x1080 screen. Every domain gets a row in the table below.
 * The script re-reads /api/v1/domains every http.refresh and redraws
 * the counts, the cards and the table rows in place: a wall screen never
 * blanks for a full reload.
 *
 * Everything that came from DNS, from a DNS host or from the
 * configuration is HTML-escaped on the way out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "common/clock.h"
#include "common/dsmatch.h"
#include "dashboard-export/internal.h"

#define CARDS_MAX	200	/* domains shown as cards */
#define CODES_MAX	3	/* problem codes on a card's face: two lines */
#define TIMELINES_MAX	300	/* key timelines read from the store */
#define TIMELINE_SPAN	(90 * 86400L)	/* at most this far back */

void
xhtml_escape(struct evbuffer *o, const char *s)
{
	const char	*p, *run;

	if (s == NULL)
		return;
	for (run = p = s; *p; p++) {
		const char *rep;

		switch (*p) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			continue;
		}
		if (p > run)
			evbuffer_add(o, run, (size_t)(p - run));
		evbuffer_add(o, rep, strlen(rep));
		run = p + 1;
	}
	if (p > run)
		evbuffer_add(o, run, (size_t)(p - run));
}

static const char *
sev_class(enum probe_severity s)
{
	return probe_severity_name(s);	/* ok, warning, unknown, critical */
}

/* "6d 22h 14m 05s left" / "overdue by 3h 02m 10s"; the script on the
 * page counts down in the same words. */
static void
countdown_text(long long s, char *buf, size_t len)
{
	bool		 neg = s < 0;
	long long	 a = neg ? -s : s, d = a / 86400, h = a % 86400 / 3600,
			 m = a % 3600 / 60, x = a % 60;
	char		 t[64];

	if (d > 0)
		snprintf(t, sizeof(t), "%lldd %lldh %lldm %02llds", d, h, m, x);
	else if (h > 0)
		snprintf(t, sizeof(t), "%lldh %lldm %02llds", h, m, x);
	else
		snprintf(t, sizeof(t), "%lldm %02llds", m, x);
	snprintf(buf, len, neg ? "overdue by %s" : "%s left", t);
}

/* "1d 23h", "5h 12m", "12m", "45s": a wall screen is read from across
 * the room, two units are enough; the script uses the same words. */
static void
rel_text(long long s, char *buf, size_t len)
{
	long long	 a = s < 0 ? -s : s;

	if (a >= 86400)
		snprintf(buf, len, "%lldd %lldh", a / 86400, a % 86400 / 3600);
	else if (a >= 3600)
		snprintf(buf, len, "%lldh %lldm", a / 3600, a % 3600 / 60);
	else if (a >= 60)
		snprintf(buf, len, "%lldm", a / 60);
	else
		snprintf(buf, len, "%llds", a);
}

/* A time relative to now that the script keeps current: "in 1d 23h" for
 * one ahead, "2m ago" for one behind, the date in the tooltip. */
static void
put_rel(struct evbuffer *o, time_t t, time_t now)
{
	char	 r[48], iso[32];

	rel_text((long long)(t - now), r, sizeof(r));
	clock_rfc3339(t, iso, sizeof(iso));
	evbuffer_add_printf(o, "<time class=\"rel\" datetime=\"%s\" "
	    "title=\"%s\" data-t=\"%lld\">%s%s%s</time>", iso, iso,
	    (long long)t, t >= now ? "in " : "", r, t >= now ? "" : " ago");
}

static const char STYLE[] =
"<style>\n"
":root{--ok:#2e7d32;--warning:#b26a00;--critical:#c62828;--unknown:#6a1b9a;"
"--fg:#1d2330;--muted:#5b6475;--line:#d9dee8;--bg:#f4f6fa}\n"
"*{box-sizing:border-box}\n"
"body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,"
"sans-serif;color:var(--fg);background:var(--bg)}\n"
"header{background:#1d2330;color:#fff;padding:8px 16px;display:flex;"
"flex-wrap:wrap;align-items:baseline;gap:8px 24px}\n"
"header h1{font-size:20px;margin:0}\n"
"header .meta{color:#c8cfdd;font-size:13px}\n"
"header .meta .stale{color:#ffb4a9;font-weight:700}\n"
".counts span{display:inline-block;margin-right:6px;padding:2px 10px;"
"border-radius:12px;font-weight:600;font-size:14px;background:#39414f}\n"
".counts .critical{background:var(--critical)}"
".counts .warning{background:var(--warning)}"
".counts .unknown{background:var(--unknown)}"
".counts .ok{background:var(--ok)}\n"
"main{padding:10px 16px}\n"
"h2{font-size:14px;margin:10px 0 6px;color:var(--muted);"
"text-transform:uppercase;letter-spacing:.06em}\n"
"*{overflow-wrap:normal;word-break:normal;hyphens:none}\n"
".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(440px,"
"1fr));gap:8px;align-items:start}\n"
".card{background:#fff;border:1px solid var(--line);border-left:6px solid "
"var(--muted);border-radius:6px;padding:6px 10px;min-width:0;"
"font-size:14px;line-height:1.35}\n"
".card p{margin:2px 0}\n"
".card .name{font-weight:700;overflow-wrap:anywhere}\n"
"ul.codes{list-style:none;margin:3px 0;padding:0;display:flex;"
"flex-wrap:wrap;gap:3px 6px}\n"
"ul.codes li{font:600 13px ui-monospace,Menlo,Consolas,monospace;"
"padding:0 5px;border-radius:3px;background:#eef1f6}\n"
"ul.codes li.critical{color:var(--critical)}ul.codes li.warning{color:"
"var(--warning)}ul.codes li.unknown{color:var(--unknown)}\n"
".card .foot{display:flex;flex-wrap:wrap;align-items:baseline;"
"gap:0 10px}\n"
".card .foot details[open]{flex-basis:100%}\n"
".card details[open]{max-width:100%}\n"
".card.critical{border-left-color:var(--critical)}"
".card.warning{border-left-color:var(--warning)}"
".card.unknown{border-left-color:var(--unknown)}"
".card.ok{border-left-color:var(--ok)}\n"
".card h3{margin:0 0 2px;font-size:16px;display:flex;flex-wrap:wrap;"
"gap:2px 8px;align-items:center}\n"
".badge{font-size:12px;font-weight:700;text-transform:uppercase;"
"color:#fff;padding:2px 8px;border-radius:4px;background:var(--muted)}\n"
".badge.critical{background:var(--critical)}"
".badge.warning{background:var(--warning)}"
".badge.unknown{background:var(--unknown)}"
".badge.ok{background:var(--ok)}\n"
".tag{font-size:13px;color:var(--muted);font-weight:400}\n"
".deadline{font-size:14px}\n"
".countdown{font-weight:700;font-variant-numeric:tabular-nums}\n"
".deadline.late .countdown,.deadline.near .countdown{color:var(--critical)}\n"
".ds{margin:8px 0}\n"
".ds label{display:block;font-size:13px;color:var(--muted)}\n"
".copy{display:flex;gap:6px;max-width:100%}\n"
".copy input{flex:1;min-width:0;font:13px ui-monospace,Menlo,Consolas,"
"monospace;padding:5px 8px;border:1px solid var(--line);border-radius:4px;"
"background:#f9fafc}\n"
".copy button{font:inherit;font-size:13px;padding:4px 12px;border:1px "
"solid #8a93a6;border-radius:4px;background:#fff;cursor:pointer}\n"
"ul.problems{margin:6px 0;padding-left:20px}\n"
"ul.problems li{margin:2px 0}\n"
"ul.problems code{font-weight:600}\n"
"li.critical code{color:var(--critical)}li.warning code{color:var(--warning)}"
"li.unknown code{color:var(--unknown)}\n"
"details summary{cursor:pointer;color:var(--muted);font-size:13px}\n"
"table{border-collapse:collapse;width:100%;background:#fff;"
"border:1px solid var(--line)}\n"
"th,td{text-align:left;padding:5px 10px;border-bottom:1px solid var(--line);"
"vertical-align:top;font-size:14px}\n"
"th{background:#eef1f6;font-size:12px;text-transform:uppercase;"
"color:var(--muted)}\n"
"td.sev{font-weight:700}td.sev.critical{color:var(--critical)}"
"td.sev.warning{color:var(--warning)}td.sev.unknown{color:var(--unknown)}"
"td.sev.ok{color:var(--ok)}\n"
"table.tl{border:0;margin-top:6px}\n"
"table.tl td,table.tl th{font-size:12px;padding:3px 6px}\n"
"table.tl td:not(.bars){white-space:nowrap}\n"
"td.bars{width:55%}\n"
"table.deadlines td{vertical-align:middle;font-size:15px;padding:2px 8px}\n"
"table.deadlines .copy input{padding:2px 6px}"
"table.deadlines .copy button{padding:1px 10px}\n"
"table.deadlines td.countdown{font-weight:700;white-space:nowrap;"
"font-variant-numeric:tabular-nums}\n"
"table.deadlines tr.near td.countdown{color:var(--critical)}\n"
"table.deadlines td.dscell{width:60%}\n"
"table.deadlines label{display:block;font-size:12px;color:var(--muted)}\n"
".track{position:relative;height:16px;background:#eef1f6;border-radius:3px}\n"
".bar{position:absolute;height:8px;border-radius:2px}\n"
".bar.key{top:0;background:#3b6fd8}.bar.key.ksk{background:#1d3f8f}\n"
".bar.ds{top:9px;height:6px;background:var(--ok)}\n"
".bar.ds.orphan{background:var(--critical)}\n"
".muted{color:var(--muted)}\n"
"footer{padding:8px 24px 24px;color:var(--muted);font-size:12px}\n"
"</style>\n";

static const char SCRIPT[] =
"<script>\n"
"(function(){\n"
"var B=document.body,skew=(+B.dataset.now||Date.now()/1000)-Date.now()/1000"
",\n"
"R=+B.dataset.refresh||30,CODES=+B.dataset.codes||4,MAXC=+B.dataset.cards||"
"200;\n"
"function now(){return Date.now()/1000+skew}\n"
"function two(n){return(n<10?'0':'')+n}\n"
"function fmt(s){var neg=s<0;s=Math.abs(s);var d=Math.floor(s/86400),h=Math"
".floor(s%86400/3600),m=Math.floor(s%3600/60),x=s%60,t;\n"
"if(d>0)t=d+'d '+h+'h '+m+'m '+two(x)+'s';else if(h>0)t=h+'h '+m+'m '+two(x"
")+'s';else t=m+'m '+two(x)+'s';\n"
"return neg?'overdue by '+t:t+' left'}\n"
"function rel(s){s=Math.floor(Math.abs(s));var d=Math.floor(s/86400),h=Math"
".floor(s%86400/3600),m=Math.floor(s%3600/60);\n"
"return d>0?d+'d '+h+'h':h>0?h+'h '+m+'m':m>0?m+'m':s+'s'}\n"
"function relText(t){var s=t-now();return s>=0?'in '+rel(s):rel(s)+' ago'}\n"
"function tick(){var n=now();\n"
"document.querySelectorAll('[data-deadline]').forEach(function(e){e.textCon"
"tent=fmt(Math.floor(+e.dataset.deadline-n))});\n"
"document.querySelectorAll('time[data-t]').forEach(function(e){e.textConten"
"t=relText(+e.dataset.t)})}\n"
"tick();setInterval(tick,1000);\n"
"document.addEventListener('click',function(ev){var b=ev.target.closest&&ev"
".target.closest('button[data-copy]');if(!b)return;\n"
"var i=b.parentNode.querySelector('input');i.focus();i.select();var done=fu"
"nction(){b.textContent='Copied';setTimeout(function(){b.textContent='Copy'"
"},1500)};\n"
"if(navigator.clipboard&&window.isSecureContext){navigator.clipboard.writeT"
"ext(i.value).then(done,function(){document.execCommand('copy');done()})}el"
"se{document.execCommand('copy');done()}});\n"
"function esc(s){return String(s==null?'':s).replace(/[&<>\"']/g,function(c"
"){return{'&':'&amp;','<':'&lt;','>':'&gt;','\"':'&quot;',\"'\":'&#39;'}[c]"
"})}\n"
"function ts(iso){return iso?Math.floor(Date.parse(iso)/1000):0}\n"
"function relHTML(iso){if(!iso)return'&ndash;';var t=ts(iso);return'<time c"
"lass=\"rel\" datetime=\"'+esc(iso)+'\" title=\"'+esc(iso)+'\" data-t=\"'+t"
"+'\">'+esc(relText(t))+'</time>'}\n"
"function waiting(d){var r=d.rotation;return!!(r&&r.kind==='ksk'&&!r.ds_upd"
"ated_at&&r.registrar_deadline)}\n"
"function needs(d){return d.severity!=='ok'||waiting(d)||(d.ds_to_publish||"
"[]).length>0||(d.ds_to_remove||[]).length>0||!!(d.rotation&&d.rotation.saf"
"e_removal_at)}\n"
"function copyField(label,v){return'<div class=\"ds\"><label>'+label+'</lab"
"el><div class=\"copy\"><input readonly spellcheck=\"false\" aria-label=\"'"
"+label+'\" value=\"'+esc(v)+'\"><button type=\"button\" data-copy>Copy</bu"
"tton></div></div>'}\n"
"function near(d,left){return left<0?' late':left<(d.critical_before||0)?' "
"near':''}\n"
"function cardHTML(d){var sev=esc(d.severity),h='<article class=\"card '+se"
"v+'\" id=\"d-'+esc(d.domain)+'\"><h3><span class=\"badge '+sev+'\">'+sev+'"
"</span> <span class=\"name\">'+esc(d.domain)+'</span> <span class=\"tag\">"
"'+esc(d.state)+' &middot; validation '+esc(d.validation)+(d.from_history?'"
" &middot; last known, not checked since the restart':'')+'</span></h3><p c"
"lass=\"facts\">',pub=d.ds_to_publish||[],rem=d.ds_to_remove||[],pr=d.probl"
"ems||[],i;\n"
"if(waiting(d)){var dl=ts(d.rotation.registrar_deadline),left=dl-now();h+='"
"<span class=\"deadline'+near(d,left)+'\">DS to the registrar: <span class="
"\"countdown\" data-deadline=\"'+dl+'\">'+fmt(Math.floor(left))+'</span></s"
"pan> &middot; '}\n"
"if(d.checked&&d.earliest_signature_expiry)h+='signatures '+(ts(d.earliest_"
"signature_expiry)>=now()?'expire':'expired')+' '+relHTML(d.earliest_signat"
"ure_expiry)+' &middot; ';\n"
"h+=d.checked_at?'checked '+relHTML(d.checked_at):'not checked yet';h+='</p"
">';\n"
"if(pub.length||rem.length){var w=[];pub.forEach(function(x){w.push('add DS"
" '+x.key_tag+(d.ambiguous_rotation?' (if the new key)':''))});rem.forEach("
"function(x){w.push('remove DS '+x.key_tag)});h+='<p class=\"dsline\">'+w.j"
"oin(', ')+' at the registrar</p>'}\n"
"h+='<div class=\"foot\">';if(pr.length){var seen={},shown=0,hid=0;h+='<ul "
"class=\"codes\">';pr.forEach(function(p){if(seen[p.code])return;seen[p.cod"
"e]=1;if(++shown>CODES){hid++;return}h+='<li class=\"'+esc(p.severity)+'\" "
"title=\"'+esc(p.message)+'\">'+esc(p.code)+'</li>'});if(hid)h+='<li>+'+hid"
"+' more</li>';h+='</ul>'}\n"
"h+='<details class=\"more\"><summary>details</summary>';\n"
"if(waiting(d))h+='<p>KSK rotation to key '+d.rotation.new_key_tag+' since "
"'+esc(d.rotation.start)+' (from '+esc(d.rotation.source||'dns')+'); regist"
"rar deadline '+esc(d.rotation.registrar_deadline)+'</p>';\n"
"pub.forEach(function(x){h+=copyField(d.ambiguous_rotation?'DS record to pu"
"blish at the registrar only if this key is the new one (one check cannot t"
"ell a starting rotation from a finished one)':'DS record to publish at the"
" registrar',x.record)});\n"
"rem.forEach(function(x){h+=copyField('DS record to remove at the registrar"
"',x.record)});\n"
"if(pr.length){h+='<ul class=\"problems\">';pr.forEach(function(p){h+='<li "
"class=\"'+esc(p.severity)+'\"><code>'+esc(p.code)+'</code> '+esc(p.message"
")+'</li>'});h+='</ul>'}\n"
"return h+'</details></div></article>'}\n"
"function el(html){var t=document.createElement('template');t.innerHTML=htm"
"l;return t.content.firstChild}\n"
"function cards(need){var box=document.querySelector('#need .cards'),frag=d"
"ocument.createDocumentFragment();\n"
"need.slice(0,MAXC).forEach(function(d){var old=document.getElementById('d-"
"'+d.domain),c=el(cardHTML(d)),det=c.querySelector('details'),k=old&&old.qu"
"erySelector('.keys');\n"
"if(k)det.appendChild(k);else det.insertAdjacentHTML('beforeend','<p class="
"\"muted\">Key timeline: <a href=\"/api/v1/domains/'+encodeURIComponent(d.d"
"omain)+'\">keys in the API</a>, or reload the page</p>');\n"
"if(old&&old.querySelector('details[open]'))det.open=true;frag.appendChild("
"c)});\n"
"box.replaceChildren(frag);\n"
"document.querySelector('#need h2').textContent='Needs action ('+need.lengt"
"h+')';\n"
"var m=document.getElementById('more');m.hidden=need.length<=MAXC;m.textCon"
"tent=(need.length-MAXC)+' more: see the table below or /api/v1/domains.'}\n"
"function deadlines(ds){var w=ds.filter(waiting).sort(function(a,b){return "
"ts(a.rotation.registrar_deadline)-ts(b.rotation.registrar_deadline)}),sec="
"document.getElementById('deadlines'),h='';\n"
"w.forEach(function(d){var dl=ts(d.rotation.registrar_deadline),left=dl-now"
"(),pub=d.ds_to_publish||[];\n"
"h+='<tr class=\"'+(left<(d.critical_before||0)?'near':'far')+'\"><td><a hr"
"ef=\"#d-'+esc(d.domain)+'\">'+esc(d.domain)+'</a></td><td class=\"countdow"
"n\" data-deadline=\"'+dl+'\">'+fmt(Math.floor(left))+'</td><td><time datet"
"ime=\"'+esc(d.rotation.registrar_deadline)+'\">'+esc(d.rotation.registrar_"
"deadline)+'</time></td><td class=\"dscell\">';\n"
"pub.forEach(function(x){h+='<div class=\"copy\"><input readonly spellcheck"
"=\"false\" aria-label=\"DS record\" value=\"'+esc(x.record)+'\"><button ty"
"pe=\"button\" data-copy>Copy</button></div>'});\n"
"if(!pub.length)h+='<span class=\"muted\">not known until the new key is se"
"en</span>';h+='</td></tr>'});\n"
"sec.querySelector('tbody').innerHTML=h;sec.querySelector('h2').textContent"
"='Registrar deadlines ('+w.length+')';sec.hidden=!w.length}\n"
"function rows(ds){var tb=document.querySelector('#all tbody'),have={},frag"
"=document.createDocumentFragment();\n"
"tb.querySelectorAll('tr[data-name]').forEach(function(r){have[r.dataset.na"
"me]=r});\n"
"ds.forEach(function(d){var r=have[d.domain],c;delete have[d.domain];\n"
"if(!r){r=el('<table><tbody><tr data-name=\"'+esc(d.domain)+'\"><td>'+esc(d"
".domain)+'</td><td></td><td></td><td></td><td><span class=\"dk\">&ndash;</"
"span></td><td></td><td>&ndash;</td><td></td></tr></tbody></table>').queryS"
"elector('tr')}\n"
"c=r.cells;c[1].className='sev '+d.severity;c[1].textContent=d.severity;c[2"
"].textContent=d.state;c[3].textContent=d.validation;\n"
"var k=c[4].querySelector('.dk');if(k&&d.checked)k.textContent=d.ds_records"
"+' / '+d.dnskey_records;\n"
"c[5].innerHTML=d.checked&&d.earliest_signature_expiry?relHTML(d.earliest_s"
"ignature_expiry):'&ndash;';c[7].innerHTML=relHTML(d.checked_at);frag.appen"
"dChild(r)});\n"
"tb.replaceChildren(frag);document.querySelector('#all').previousElementSib"
"ling.textContent='All domains ('+ds.length+')'}\n"
"function apply(j){var ds=j.domains||[],n={critical:0,unknown:0,warning:0,o"
"k:0},need=[];\n"
"ds.forEach(function(d){n[d.severity]=(n[d.severity]||0)+1;if(needs(d))need"
".push(d)});\n"
"document.querySelectorAll('.counts span').forEach(function(e){e.textConten"
"t=n[e.className]+' '+e.className});\n"
"document.title='dnssecmon: '+n.critical+' critical, '+n.warning+' warning'"
";\n"
"document.getElementById('ndom').textContent=ds.length;\n"
"deadlines(ds);cards(need);rows(ds);tick()}\n"
"var last=document.getElementById('updated').textContent;\n"
"function refresh(){var u=document.getElementById('updated');fetch('/api/v1"
"/domains',{cache:'no-store'}).then(function(r){if(!r.ok)throw new Error('H"
"TTP '+r.status);return r.json()}).then(function(j){\n"
"if(j.generated_at){skew=ts(j.generated_at)-Date.now()/1000;last=j.generate"
"d_at}apply(j);u.textContent=last;u.className=''}).catch(function(e){\n"
"u.className='stale';u.textContent='update failed ('+e.message+'): data of "
"'+last})}\n"
"setInterval(refresh,R*1000);\n"
"})();\n"
"</script>\n";

static void
put_time(struct evbuffer *o, time_t t)
{
	char	 buf[32];

	if (t == 0) {
		evbuffer_add_printf(o, "&ndash;");
		return;
	}
	clock_rfc3339(t, buf, sizeof(buf));
	evbuffer_add_printf(o, "<time datetime=\"%s\">%s</time>", buf, buf);
}

static bool
waiting_for_ds(const struct xdom *d)
{
	return d->rot != NULL && d->rot->kind == STORE_ROT_KSK &&
	    d->rot->ds_updated_at == 0 && d->rot->registrar_deadline != 0;
}

static bool
needs_action(const struct xdom *d)
{
	/* An old key waiting for its safe-removal time is a rotation not
	 * finished: the DNS host has one more step, and when. */
	return xdom_severity(d) != PROBE_SEV_OK || waiting_for_ds(d) ||
	    d->n_publish > 0 || d->n_remove > 0 ||
	    store_rotation_safe_removal(d->rot) != 0;
}

static double
pct(time_t t, time_t t0, time_t span)
{
	double	 v = span > 0 ? 100.0 * (double)(t - t0) / (double)span : 0;

	return v < 0 ? 0 : v > 100 ? 100 : v;
}

static void
bar(struct evbuffer *o, const char *cls, time_t from, time_t to, time_t t0,
    time_t span)
{
	double	 l = pct(from, t0, span), r = pct(to, t0, span);

	if (r - l < 0.6)
		r = l + 0.6;	/* a single sighting still shows */
	evbuffer_add_printf(o, "<span class=\"bar %s\" style=\"left:%.2f%%;"
	    "width:%.2f%%\"></span>", cls, l, r - l > 100 - l ? 100 - l : r - l);
}

/* Every key and DS history knows, as bars on one time axis. */
static void
timeline(struct export *ex, struct evbuffer *o, const struct xdom *d,
    time_t now)
{
	struct store_key_seen	*k = NULL;
	struct store_ds_seen	*ds = NULL;
	size_t			 nk = 0, nd = 0, i, j;
	time_t			 t0 = now, span, klast = 0, dlast = 0;
	char			 a[32];

	if (ex->store == NULL || store_keys(ex->store, d->name, &k, &nk, &ds,
	    &nd) == -1) {
		evbuffer_add_printf(o, "<p class=\"muted\">No key history "
		    "(%s).</p>", ex->store ? "the store could not be read" :
		    "no store");
		return;
	}
	if (nk + nd == 0) {
		evbuffer_add_printf(o, "<p class=\"muted\">No key seen "
		    "yet.</p>");
		goto done;
	}
	for (i = 0; i < nk; i++) {
		if (k[i].first_seen < t0)
			t0 = k[i].first_seen;
		if (k[i].last_seen > klast)
			klast = k[i].last_seen;
	}
	for (i = 0; i < nd; i++) {
		if (ds[i].first_seen < t0)
			t0 = ds[i].first_seen;
		if (ds[i].last_seen > dlast)
			dlast = ds[i].last_seen;
	}
	if (now - t0 > TIMELINE_SPAN)
		t0 = now - TIMELINE_SPAN;
	span = now - t0 < 3600 ? 3600 : now - t0;
	evbuffer_add_printf(o, "<table class=\"tl\"><tr><th>record</th>"
	    "<th>first seen</th><th>last seen</th><th>DS at parent since</th>"
	    "<th>%s &rarr; now (key: blue, DS: green)</th></tr>\n",
	    clock_rfc3339(t0, a, sizeof(a)));
	for (i = 0; i < nk; i++) {
		bool ksk = (k[i].flags & 1) != 0;

		evbuffer_add_printf(o, "<tr><td>%s %u <span class=\"muted\">"
		    "alg %u</span></td><td>", ksk ? "KSK" : "ZSK",
		    k[i].key_tag, k[i].algorithm);
		put_time(o, k[i].first_seen);
		evbuffer_add_printf(o, "</td><td>");
		if (k[i].last_seen == klast)
			evbuffer_add_printf(o, "published now");
		else
			put_time(o, k[i].last_seen);
		evbuffer_add_printf(o, "</td><td>");
		put_time(o, k[i].ds_first_seen);
		evbuffer_add_printf(o, "</td><td class=\"bars\"><div "
		    "class=\"track\">");
		bar(o, ksk ? "key ksk" : "key", k[i].first_seen,
		    k[i].last_seen == klast ? now : k[i].last_seen, t0, span);
		for (j = 0; j < nd; j++)
			if (ds[j].key == (int)i)
				bar(o, "ds", ds[j].first_seen,
				    ds[j].last_seen == dlast ? now :
				    ds[j].last_seen, t0, span);
		evbuffer_add_printf(o, "</div></td></tr>\n");
	}
	for (j = 0; j < nd; j++) {
		if (ds[j].key >= 0)
			continue;
		evbuffer_add_printf(o, "<tr><td>DS %u <span class=\"muted\">"
		    "alg %u, no key seen</span></td><td>", ds[j].key_tag,
		    ds[j].algorithm);
		put_time(o, ds[j].first_seen);
		evbuffer_add_printf(o, "</td><td>");
		if (ds[j].last_seen == dlast)
			evbuffer_add_printf(o, "at the parent now");
		else
			put_time(o, ds[j].last_seen);
		evbuffer_add_printf(o, "</td><td></td><td class=\"bars\">"
		    "<div class=\"track\">");
		bar(o, "ds orphan", ds[j].first_seen, ds[j].last_seen == dlast ?
		    now : ds[j].last_seen, t0, span);
		evbuffer_add_printf(o, "</div></td></tr>\n");
	}
	evbuffer_add_printf(o, "</table>\n");
done:
	free(k);
	free(ds);
}

static void
copy_field(struct evbuffer *o, const char *label, const char *value)
{
	evbuffer_add_printf(o, "<div class=\"ds\"><label>%s</label>"
	    "<div class=\"copy\"><input readonly spellcheck=\"false\" "
	    "aria-label=\"%s\" value=\"", label, label);
	xhtml_escape(o, value);
	evbuffer_add_printf(o, "\"><button type=\"button\" data-copy>Copy"
	    "</button></div></div>\n");
}


/* The proof of non-existence in a few words: its kind, NSEC3 iterations,
 * and how many servers serve a bogus one. */
static void
denial_cell(struct evbuffer *o, const struct xdom *d)
{
	unsigned	 i, bad = 0;

	if (!d->checked || d->denial_proof == PROBE_DENIAL_NONE) {
		evbuffer_add_printf(o, "&ndash;");
		return;
	}
	for (i = 0; i < d->n_servers; i++)
		if (d->servers[i].denial_valid == 0)
			bad++;
	evbuffer_add_printf(o, "%s", probe_denial_name(
	    (enum probe_denial)d->denial_proof));
	if (d->nsec3)
		evbuffer_add_printf(o, " (%u iterations)", d->nsec3_iterations);
	if (bad > 0)
		evbuffer_add_printf(o, ", <strong>bogus on %u of %u "
		    "servers</strong>", bad, d->n_servers);
}

/* The line under a card's title: the deadline or the signatures'
 * expiry, and when it was checked, all relative to now. */
static void
card_facts(struct evbuffer *o, const struct xdom *d, time_t now)
{
	char		 left[80];
	long long	 secs;

	evbuffer_add_printf(o, "<p class=\"facts\">");
	if (waiting_for_ds(d)) {
		secs = (long long)(d->rot->registrar_deadline - now);
		countdown_text(secs, left, sizeof(left));
		evbuffer_add_printf(o, "<span class=\"deadline%s\">DS to the "
		    "registrar: <span class=\"countdown\" data-deadline="
		    "\"%lld\">%s</span></span> &middot; ", secs < 0 ? " late" :
		    secs < d->policy.critical_before_s ? " near" : "",
		    (long long)d->rot->registrar_deadline, left);
	}
	if (d->checked && d->sig_expiry != 0) {
		evbuffer_add_printf(o, "signatures %s ", d->sig_expiry >= now ?
		    "expire" : "expired");
		put_rel(o, d->sig_expiry, now);
		evbuffer_add_printf(o, " &middot; ");
	}
	if (d->known && d->last_check != 0) {
		evbuffer_add_printf(o, "checked ");
		put_rel(o, d->last_check, now);
	} else
		evbuffer_add_printf(o, "not checked yet");
	evbuffer_add_printf(o, "</p>\n");
}

/* What the card folds: the rotation in words, the DS records to copy,
 * the problems' messages and the key timeline. */
static void
card_details(struct export *ex, struct evbuffer *o, const struct xdom *d,
    time_t now, bool with_timeline)
{
	char		 when[32];
	unsigned	 i;

	evbuffer_add_printf(o, "<details class=\"more\"><summary>details"
	    "</summary>\n");
	if (d->checked && d->alg_stage != PROBE_ALG_NONE) {
		char since[32], due[32];

		evbuffer_add_printf(o, "<p>Algorithm rollover %u &rarr; %u: "
		    "stage %s%s", d->alg_from, d->alg_to,
		    probe_alg_stage_name((enum probe_alg_stage)d->alg_stage),
		    d->alg_bad_order ? ", <strong>steps out of order</strong>" :
		    "");
		if (d->alg_since != 0)
			evbuffer_add_printf(o, " since %s, due by %s%s",
			    clock_rfc3339(d->alg_since, since, sizeof(since)),
			    clock_rfc3339(d->alg_deadline, due, sizeof(due)),
			    d->alg_stalled ? ", <strong>stalled</strong>" : "");
		evbuffer_add_printf(o, "</p>\n");
	}
	if (waiting_for_ds(d)) {
		evbuffer_add_printf(o, "<p>KSK rotation to key %u since %s "
		    "(from %s); registrar deadline ", d->rot->new_key_tag,
		    clock_rfc3339(d->rot->start, when, sizeof(when)),
		    d->rot->source[0] ? d->rot->source : "dns");
		put_time(o, d->rot->registrar_deadline);
		evbuffer_add_printf(o, "</p>\n");
	} else if (d->rot != NULL) {
		/* ds_updated_at: the new DS on every parent server; the
		 * old one may stay in caches for the DS TTL after that. */
		evbuffer_add_printf(o, "<p>KSK rotation to key %u: the new DS "
		    "on every parent server at ", d->rot->new_key_tag);
		put_time(o, d->rot->ds_updated_at);
		evbuffer_add_printf(o, "; the old key may safely go from ");
		put_time(o, store_rotation_safe_removal(d->rot));
		evbuffer_add_printf(o, " (DS TTL %u s later); the DNS host's "
		    "window ends ", d->rot->ds_ttl);
		put_time(o, d->rot->deadline);
		evbuffer_add_printf(o, "</p>\n");
	}
	for (i = 0; i < d->n_publish; i++)
		if (d->publish[i].record != NULL)
			copy_field(o, d->rotation_ambiguous ? "DS record to "
			    "publish at the registrar only if this key is the "
			    "new one (one check cannot tell a starting "
			    "rotation from a finished one)" : "DS record to "
			    "publish at the registrar", d->publish[i].record);
	for (i = 0; i < d->n_remove; i++)
		if (d->remove[i].record != NULL)
			copy_field(o, "DS record to remove at the registrar",
			    d->remove[i].record);
	if (d->n_problems > 0) {
		evbuffer_add_printf(o, "<ul class=\"problems\">");
		for (i = 0; i < d->n_problems; i++) {
			evbuffer_add_printf(o, "<li class=\"%s\"><code>",
			    sev_class((enum probe_severity)
			    d->problems[i].severity));
			xhtml_escape(o, d->problems[i].code);
			evbuffer_add_printf(o, "</code> ");
			xhtml_escape(o, d->problems[i].message);
			evbuffer_add_printf(o, "</li>");
		}
		evbuffer_add_printf(o, "</ul>\n");
	}
	if (with_timeline) {
		evbuffer_add_printf(o, "<div class=\"keys\"><h4>Key timeline"
		    "</h4>");
		timeline(ex, o, d, now);
		evbuffer_add_printf(o, "</div>\n");
	}
	evbuffer_add_printf(o, "</details>\n");
}

/* Whether problem i repeats the code of an earlier one (a problem may be
 * raised once per server). */
static bool
code_seen(const struct xdom *d, unsigned i)
{
	unsigned	 j;

	for (j = 0; j < i; j++)
		if (strcmp(d->problems[j].code, d->problems[i].code) == 0)
			return true;
	return false;
}

static void
card(struct export *ex, struct evbuffer *o, const struct xdom *d, time_t now,
    bool with_timeline)
{
	enum probe_severity	 sev = xdom_severity(d);
	unsigned		 i, shown = 0, hidden = 0;

	evbuffer_add_printf(o, "<article class=\"card %s\" id=\"d-",
	    sev_class(sev));
	xhtml_escape(o, d->name);
	evbuffer_add_printf(o, "\"><h3><span class=\"badge %s\">%s</span> "
	    "<span class=\"name\">", sev_class(sev), probe_severity_name(sev));
	xhtml_escape(o, d->name);
	evbuffer_add_printf(o, "</span> <span class=\"tag\">%s &middot; "
	    "validation %s%s</span></h3>\n", probe_state_name(d->known ?
	    (enum probe_state)d->state : PROBE_STATE_UNKNOWN),
	    probe_validation_name(d->known ? (enum probe_validation)
	    d->validation : PROBE_VAL_INDETERMINATE),
	    d->from_history ? " &middot; last known, not checked since "
	    "the restart" : "");
	card_facts(o, d, now);
	if (d->n_publish > 0 || d->n_remove > 0) {
		evbuffer_add_printf(o, "<p class=\"dsline\">");
		for (i = 0; i < d->n_publish; i++)
			evbuffer_add_printf(o, "%sadd DS %u%s", i ? ", " : "",
			    d->publish[i].key_tag, d->rotation_ambiguous ?
			    " (if the new key)" : "");
		for (i = 0; i < d->n_remove; i++)
			evbuffer_add_printf(o, "%sremove DS %u", i ||
			    d->n_publish ? ", " : "", d->remove[i].key_tag);
		evbuffer_add_printf(o, " at the registrar</p>\n");
	}
	/* The codes and the fold share a line: "details" goes where the
	 * codes end, and takes the card's width once opened. */
	evbuffer_add_printf(o, "<div class=\"foot\">");
	if (d->n_problems > 0) {
		evbuffer_add_printf(o, "<ul class=\"codes\">");
		for (i = 0; i < d->n_problems; i++) {
			if (code_seen(d, i))
				continue;	/* one per server: once here */
			if (++shown > CODES_MAX) {
				hidden++;
				continue;
			}
			evbuffer_add_printf(o, "<li class=\"%s\" title=\"",
			    sev_class((enum probe_severity)
			    d->problems[i].severity));
			xhtml_escape(o, d->problems[i].message);
			evbuffer_add_printf(o, "\">");
			xhtml_escape(o, d->problems[i].code);
			evbuffer_add_printf(o, "</li>");
		}
		if (hidden > 0)
			evbuffer_add_printf(o, "<li>+%u more</li>", hidden);
		evbuffer_add_printf(o, "</ul>\n");
	}
	card_details(ex, o, d, now, with_timeline);
	evbuffer_add_printf(o, "</div></article>\n");
}

/* The rotations waiting for their DS, nearest deadline first: what a
 * NOC screen must show above everything else. */
static void
deadlines(struct evbuffer *o, struct xdom **v, size_t n, time_t now)
{
	const struct xdom	**w;
	size_t			  k = 0, i, j;
	char			  left[80];
	long long		  secs;

	if ((w = calloc(n ? n : 1, sizeof(*w))) == NULL)
		return;
	for (i = 0; i < n; i++)
		if (waiting_for_ds(v[i]))
			w[k++] = v[i];
	/* Insertion sort by deadline: few rotations are open at once. */
	for (i = 1; i < k; i++)
		for (j = i; j > 0 && w[j]->rot->registrar_deadline <
		    w[j - 1]->rot->registrar_deadline; j--) {
			const struct xdom *x = w[j];

			w[j] = w[j - 1];
			w[j - 1] = x;
		}
	/* Present even when empty: the script fills it when a rotation
	 * starts. */
	evbuffer_add_printf(o, "<section id=\"deadlines\"%s><h2>Registrar "
	    "deadlines (%zu)</h2>\n<table class=\"deadlines\"><thead><tr>"
	    "<th>domain</th><th>time left</th><th>registrar deadline (UTC)"
	    "</th><th>DS record to publish at the registrar</th></tr></thead>"
	    "<tbody>\n", k == 0 ? " hidden" : "", k);
	for (i = 0; i < k; i++) {
		secs = (long long)(w[i]->rot->registrar_deadline - now);
		countdown_text(secs, left, sizeof(left));
		evbuffer_add_printf(o, "<tr class=\"%s\"><td><a href=\"#d-",
		    secs < w[i]->policy.critical_before_s ? "near" : "far");
		xhtml_escape(o, w[i]->name);
		evbuffer_add_printf(o, "\">");
		xhtml_escape(o, w[i]->name);
		evbuffer_add_printf(o, "</a></td><td class=\"countdown\" "
		    "data-deadline=\"%lld\">%s</td><td>",
		    (long long)w[i]->rot->registrar_deadline, left);
		put_time(o, w[i]->rot->registrar_deadline);
		/* One row a rotation, the DS beside it: a wall screen has
		 * the width, not the height. */
		evbuffer_add_printf(o, "</td><td class=\"dscell\">");
		for (j = 0; j < w[i]->n_publish; j++)
			if (w[i]->publish[j].record != NULL) {
				evbuffer_add_printf(o, "<div class=\"copy\">"
				    "<input readonly spellcheck=\"false\" "
				    "aria-label=\"DS record\" value=\"");
				xhtml_escape(o, w[i]->publish[j].record);
				evbuffer_add_printf(o, "\"><button type=\"button\" "
				    "data-copy>Copy</button></div>");
			}
		if (w[i]->n_publish == 0)
			evbuffer_add_printf(o, "<span class=\"muted\">not "
			    "known until the new key is seen</span>");
		evbuffer_add_printf(o, "</td></tr>\n");
	}
	evbuffer_add_printf(o, "</tbody></table></section>\n");
	free(w);
}

void
xstatus_render(struct export *ex, struct evbuffer *o, time_t now)
{
	struct xdom	**v;
	size_t		  n = 0, i, cards = 0, timelines = 0, need = 0;
	size_t		  count[4] = { 0, 0, 0, 0 };
	char		  when[32];
	const struct xdom *d;

	v = xdom_sorted(ex, &n);
	for (i = 0; i < n; i++) {
		count[xdom_severity(v[i])]++;
		need += needs_action(v[i]);
	}
	evbuffer_add_printf(o, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\""
	    "width=device-width, initial-scale=1\">\n<title>dnssecmon: %zu "
	    "critical, %zu warning</title>\n", count[PROBE_SEV_CRITICAL],
	    count[PROBE_SEV_WARNING]);
	evbuffer_add(o, STYLE, sizeof(STYLE) - 1);
	evbuffer_add_printf(o, "</head>\n<body data-now=\"%lld\" "
	    "data-refresh=\"%d\" data-cards=\"%d\" data-codes=\"%d\">\n"
	    "<header>"
	    "<h1>dnssecmon</h1><div class=\"counts\">"
	    "<span class=\"critical\">%zu critical</span>"
	    "<span class=\"unknown\">%zu unknown</span>"
	    "<span class=\"warning\">%zu warning</span>"
	    "<span class=\"ok\">%zu ok</span></div>"
	    "<div class=\"meta\"><span id=\"ndom\">%zu</span> domains "
	    "&middot; <span id=\"updated\">%s</span> &middot; "
	    "updates every %d s &middot; <a style=\"color:inherit\" "
	    "href=\"/api/v1/domains\">JSON</a> &middot; <a style=\"color:"
	    "inherit\" href=\"/metrics\">metrics</a></div></header>\n<main>\n",
	    (long long)now, ex->refresh_s, CARDS_MAX, CODES_MAX,
	    count[PROBE_SEV_CRITICAL],
	    count[PROBE_SEV_UNKNOWN],
	    count[PROBE_SEV_WARNING], count[PROBE_SEV_OK], n,
	    clock_rfc3339(now, when, sizeof(when)), ex->refresh_s);

	deadlines(o, v, n, now);
	{
		evbuffer_add_printf(o, "<section id=\"need\"><h2>Needs action "
		    "(%zu)</h2>\n<div class=\"cards\">\n", need);
		for (i = 0; i < n && cards < CARDS_MAX; i++) {
			if (!needs_action(v[i]))
				continue;
			card(ex, o, v[i], now, timelines < TIMELINES_MAX);
			timelines++;
			cards++;
		}
		evbuffer_add_printf(o, "</div>\n<p class=\"muted\" id=\"more\""
		    "%s>%zu more: see the table below or /api/v1/domains.</p>\n",
		    need > cards ? "" : " hidden", need - cards);
		evbuffer_add_printf(o, "</section>\n");
	}

	evbuffer_add_printf(o, "<section><h2>All domains (%zu)</h2>\n<table "
	    "id=\"all\"><thead><tr><th>domain</th><th>severity</th>"
	    "<th>state</th><th>validation</th><th>DS / DNSKEY</th>"
	    "<th>signatures expire</th><th>denial</th><th>last check</th>"
	    "</tr></thead><tbody>\n", n);
	for (i = 0; i < n; i++) {
		enum probe_severity sev;

		d = v[i];
		sev = xdom_severity(d);
		evbuffer_add_printf(o, "<tr data-name=\"");
		xhtml_escape(o, d->name);
		evbuffer_add_printf(o, "\"><td>");
		if (timelines < TIMELINES_MAX && !needs_action(d)) {
			evbuffer_add_printf(o, "<details><summary>");
			xhtml_escape(o, d->name);
			evbuffer_add_printf(o, "</summary>");
			timeline(ex, o, d, now);
			evbuffer_add_printf(o, "</details>");
			timelines++;
		} else if (needs_action(d)) {
			evbuffer_add_printf(o, "<a href=\"#d-");
			xhtml_escape(o, d->name);
			evbuffer_add_printf(o, "\">");
			xhtml_escape(o, d->name);
			evbuffer_add_printf(o, "</a>");
		} else
			xhtml_escape(o, d->name);
		evbuffer_add_printf(o, "</td><td class=\"sev %s\">%s</td>"
		    "<td>%s</td><td>%s</td>", sev_class(sev),
		    probe_severity_name(sev), probe_state_name(d->known ?
		    (enum probe_state)d->state : PROBE_STATE_UNKNOWN),
		    probe_validation_name(d->known ? (enum probe_validation)
		    d->validation : PROBE_VAL_INDETERMINATE));
		if (d->checked && d->multi_signer != PROBE_MULTI_NONE)
			/* Several providers' keys: the DNSKEY count is theirs
			 * together, which the reader should know. */
			evbuffer_add_printf(o, "<td><span class=\"dk\">%u / %u</span> <span class=\"muted"
			    "\">multi-signer, %u providers</span></td><td>",
			    d->n_ds, d->n_dnskey, d->n_providers);
		else if (d->checked)
			evbuffer_add_printf(o, "<td><span class=\"dk\">%u / %u</span></td><td>",
			    d->n_ds, d->n_dnskey);
		else
			evbuffer_add_printf(o, "<td><span class=\"dk\">&ndash;</span></td><td>");
		if (d->checked && d->sig_expiry != 0)
			put_rel(o, d->sig_expiry, now);
		else
			evbuffer_add_printf(o, "&ndash;");
		evbuffer_add_printf(o, "</td><td>");
		denial_cell(o, d);
		evbuffer_add_printf(o, "</td><td>");
		if (d->known && d->last_check != 0)
			put_rel(o, d->last_check, now);
		else
			evbuffer_add_printf(o, "&ndash;");
		evbuffer_add_printf(o, "</td></tr>\n");
	}
	evbuffer_add_printf(o, "</tbody></table></section>\n</main>\n<footer>"
	    "dnssecmon " DNSSECMON_VERSION " &middot; times relative to now "
	    "(the exact UTC time in each one's tooltip) &middot; a domain not "
	    "checked since the restart shows its last recorded state</footer>"
	    "\n");
	evbuffer_add(o, SCRIPT, sizeof(SCRIPT) - 1);
	evbuffer_add_printf(o, "</body></html>\n");
	free(v);
}
