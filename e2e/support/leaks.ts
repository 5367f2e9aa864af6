// Fails a test when any secret value (raw, or base64 with or without padding) appears in text.
export function findLeaks(text: string, values: string[]): string[] {
  const hits: string[] = [];
  for (const value of values) {
    const b64 = Buffer.from(value, 'utf8').toString('base64');
    for (const form of [value, b64, b64.replace(/=+$/, '')]) {
      if (form.length >= 6 && text.includes(form)) hits.push(`${value.slice(0, 3)}… (as ${form === value ? 'raw' : 'base64'})`);
    }
  }
  return hits;
}
