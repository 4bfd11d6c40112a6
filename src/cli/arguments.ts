/**
 * Joins each `--option value` whose value starts with "-" into `--option=value`. Public ids are
 * base64url, and one in 64 starts with "-" (`--company -Xb3…`): the argument parser would take it
 * for an option and refuse the command. A value that is itself a known option is left alone, so
 * `--name --company X` still reports the missing name.
 */
export function joinDashValues(argv: readonly string[], stringOptions: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    const next = argv[i + 1];
    const name = word.startsWith('--') && !word.includes('=') ? word.slice(2) : undefined;
    if (name !== undefined && stringOptions.has(name) && next !== undefined && next.startsWith('-') && !isOption(next, stringOptions)) {
      out.push(`${word}=${next}`);
      i++;
    } else {
      out.push(word);
    }
  }
  return out;
}

function isOption(word: string, stringOptions: ReadonlySet<string>): boolean {
  if (word === '-h' || word === '--help') return true;
  return word.startsWith('--') && stringOptions.has(word.slice(2).split('=')[0]!);
}
