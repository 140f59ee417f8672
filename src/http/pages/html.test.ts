import { describe, expect, it } from 'vitest';
import { escapeHtml, html, trusted } from './html.js';

describe('the html tag', () => {
  it('escapes every interpolation: text and attribute breakouts come out inert', () => {
    const hostile = `"><script>alert('x')</script><img src=x onerror=alert(1)> & \`tick\``;
    const out = html`<p title="${hostile}">${hostile}</p>`.text;
    expect(out).not.toContain('<script>');
    expect(out).not.toContain('<img');
    expect(out).not.toContain('"><');
    expect(out).toBe(
      '<p title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; ' +
        '&amp; &#96;tick&#96;">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;img src=x ' +
        'onerror=alert(1)&gt; &amp; &#96;tick&#96;</p>',
    );
  });

  it('escapes an ampersand once, so an entity in the input stays visible text', () => {
    expect(html`${'&lt;b&gt;'}`.text).toBe('&amp;lt;b&amp;gt;');
  });

  it('nests pieces built by the tag without escaping them again, and escapes inside them', () => {
    const item = (text: string) => html`<li>${text}</li>`;
    expect(html`<ul>${['a<b', 'c"d'].map(item)}</ul>`.text).toBe('<ul><li>a&lt;b</li><li>c&quot;d</li></ul>');
  });

  it('renders nothing for null, undefined and false, and numbers as text', () => {
    expect(html`[${null}${undefined}${false}${42}]`.text).toBe('[42]');
  });

  it('does not take a look-alike object for markup', () => {
    const fake = { text: '<script>x</script>' } as unknown as string;
    expect(html`${fake}`.text).toBe('[object Object]');
    expect(html`${trusted('<br>')}`.text).toBe('<br>');
  });

  it('escapes the five HTML-special characters and the backtick', () => {
    expect(escapeHtml(`&<>"'\``)).toBe('&amp;&lt;&gt;&quot;&#39;&#96;');
  });
});
