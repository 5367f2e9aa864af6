import { convertGoTemplate } from './go-template.js';

const ok = (text: string) => {
  const r = convertGoTemplate(text);
  if (!r.ok) throw new Error(r.reason);
  return r.text;
};
const reason = (text: string) => {
  const r = convertGoTemplate(text);
  if (r.ok) throw new Error(`converted to ${r.text}`);
  return r.reason;
};

describe('convertGoTemplate', () => {
  it.each([
    ['field references', 'postgres://{{ .user }}:{{ .password }}@db:5432', 'postgres://{{ user }}:{{ password }}@db:5432'],
    ['index with a dotted key', '{{ index . "tls.crt" }}', '{{ tls.crt }}'],
    ['index with a raw string', '{{ index . `.dockerconfigjson` }}', '{{ .dockerconfigjson }}'],
    ['identity functions (engineVersion v1 bytes)', '{{ .password | toString }}/{{ .user | toBytes | toString }}', '{{ password }}/{{ user }}'],
    ['parenthesised index piped', '{{ (index . "a-b") | toString }}', '{{ a-b }}'],
    ['whitespace trimming', 'a:  {{- .x -}}  \n b', 'a:{{ x }}b'],
    ['comments', 'x{{/* a comment */}}y', 'xy'],
    ['if', '{{ if .tls }}tls=on{{ end }}', '{{#tls}}tls=on{{/tls}}'],
    ['if / else', '{{ if .tls }}on{{ else }}off{{ end }}', '{{#tls}}on{{/tls}}{{^tls}}off{{/tls}}'],
    ['if not / else', '{{ if not .tls }}off{{ else }}on{{ end }}', '{{^tls}}off{{/tls}}{{#tls}}on{{/tls}}'],
    ['with and dot', '{{ with .host }}host={{ . }}{{ end }}', '{{#host}}host={{.}}{{/host}}'],
    ['with / else (dot is the root again)', '{{ with .a }}{{ . }}{{ else }}{{ .b }}{{ end }}', '{{#a}}{{.}}{{/a}}{{^a}}{{ b }}{{/a}}'],
    ['plain text', 'no template here', 'no template here'],
    ['multi-line YAML', 'user: {{ .user }}\npass: "{{ .pass | toString }}"\n', 'user: {{ user }}\npass: "{{ pass }}"\n'],
  ])('converts %s', (_what, go, mustache) => {
    expect(ok(go)).toBe(mustache);
  });

  it.each([
    ['sprig functions', '{{ .x | b64dec }}', "the function 'b64dec'"],
    ['a function call first', '{{ upper .x }}', "the function 'upper'"],
    ['range', '{{ range $k, $v := . }}{{ $k }}{{ end }}', "'range'"],
    ['variables', '{{ $x }}', 'variables'],
    ['a field of the value inside with', '{{ with .a }}{{ .b }}{{ end }}', "inside 'with'"],
    ['else if', '{{ if .a }}1{{ else if .b }}2{{ end }}', "'else if .b'"],
    ['an unclosed if', '{{ if .a }}x', 'not closed'],
    ['an unclosed action', '{{ .a ', 'not closed with }}'],
    ['a stray end', '{{ end }}', "'end' without"],
    ['the whole data', '{{ . }}', "'.' (all the data)"],
    ['a Helm escape', '{{ `{{ .password }}` }}', 'helm template'],
    ['a key Secrets cannot hold', '{{ index . "a/b" }}', 'not a valid Secret key'],
  ])('refuses %s with a reason', (_what, go, expected) => {
    expect(reason(go)).toContain(expected);
  });
});
