// Body HTML is shown inside the CRM, so it is sanitised before it leaves threadlink:
// no scripts, no event handlers, no javascript: URLs, no CSS (which can exfiltrate or overlay),
// and remote images blocked by default (tracking pixels) — kept as data-blocked-src so a
// host can offer "show images". cid:/data: images stay.
import sanitizeHtml from 'sanitize-html';

export interface SanitizeOptions {
  /** Allow http(s) images (off by default: remote images are trackers). */
  allowRemoteImages?: boolean;
}

const ALLOWED_TAGS = [
  'a',
  'abbr',
  'b',
  'blockquote',
  'br',
  'caption',
  'cite',
  'code',
  'col',
  'colgroup',
  'dd',
  'del',
  'div',
  'dl',
  'dt',
  'em',
  'font',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'hr',
  'i',
  'img',
  'ins',
  'li',
  'mark',
  'ol',
  'p',
  'pre',
  'q',
  's',
  'small',
  'span',
  'strike',
  'strong',
  'sub',
  'sup',
  'table',
  'tbody',
  'td',
  'tfoot',
  'th',
  'thead',
  'tr',
  'u',
  'ul',
];

export function sanitizeEmailHtml(html: string, options: SanitizeOptions = {}): string {
  return sanitizeHtml(html, {
    allowedTags: ALLOWED_TAGS,
    disallowedTagsMode: 'discard',
    allowedAttributes: {
      a: ['href', 'title', 'name', 'rel', 'target'],
      img: ['src', 'alt', 'title', 'width', 'height', 'data-blocked-src'],
      td: ['colspan', 'rowspan', 'align', 'valign'],
      th: ['colspan', 'rowspan', 'align', 'valign'],
      table: ['summary'],
      '*': ['dir', 'lang'],
    },
    allowedSchemes: ['http', 'https', 'mailto', 'tel'],
    allowedSchemesByTag: { img: options.allowRemoteImages ? ['http', 'https', 'cid', 'data'] : ['cid', 'data'] },
    allowProtocolRelative: false,
    allowedStyles: {},
    nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'title', 'head', 'iframe', 'object', 'embed', 'svg', 'math'],
    transformTags: {
      a: (tagName, attribs) => ({ tagName, attribs: { ...attribs, rel: 'noopener noreferrer nofollow', target: '_blank' } }),
      img: (tagName, original) => {
        let attribs = original;
        // HTML the adapter already sanitised has its remote images parked in data-blocked-src;
        // when the host asks for images ("show images") they come back (still scheme-checked).
        const blocked = attribs['data-blocked-src'];
        if (options.allowRemoteImages && attribs.src === undefined && blocked) {
          const { 'data-blocked-src': _parked, ...rest } = attribs;
          attribs = { ...rest, src: blocked };
        }
        const src = attribs.src ?? '';
        if (!options.allowRemoteImages && /^(https?:)?\/\//i.test(src)) {
          const { src: _remote, ...rest } = attribs;
          return { tagName, attribs: { ...rest, 'data-blocked-src': src, alt: rest.alt ?? 'remote image blocked' } };
        }
        return { tagName, attribs };
      },
    },
  });
}
