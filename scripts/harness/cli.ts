import { parseArgs } from 'node:util';

// One way to read the command line of the tools (benchmark, soak, profile summary): node:util parseArgs in
// strict mode, with --help generated from the flags' descriptions so that the help cannot drift from the parsing.

export type Flag =
  | {
      type: 'string';
      /** One line, or several separated by \n; " (default …)" is appended to the first. */
      description: string;
      default?: string;
      /** The value's placeholder in --help, e.g. "<s>" (default "<value>"). */
      value?: string;
    }
  | { type: 'boolean'; description: string; default?: boolean };

/** The parsed flags: booleans are always set (false by default), strings when given or defaulted. */
export type FlagValues<F extends Record<string, Flag>> = {
  [K in keyof F]: F[K] extends { type: 'boolean' } ? boolean : F[K] extends { default: string } ? string : string | undefined;
};

type StringFlag<F extends Record<string, Flag>> = { [K in keyof F]: F[K] extends { type: 'string' } ? K : never }[keyof F] & string;

export interface CliSpec<F extends Record<string, Flag>> {
  /** What follows "usage: " in --help, e.g. "npm run soak -- [options]". */
  usage: string;
  flags: F;
  /** Whether arguments other than flags are accepted (default false). */
  positionals?: boolean;
  /** Prefixes error messages, e.g. "soak" gives "soak: --rate must be …". */
  name?: string;
  /** Exit code for a bad command line (default 2). */
  usageExitCode?: number;
  /** The arguments to parse (default: process.argv after the script). */
  argv?: string[];
}

export interface Cli<F extends Record<string, Flag>> {
  flags: FlagValues<F>;
  positionals: string[];
  help: string;
  /** Prints the message and the help to stderr and exits with the usage exit code. */
  fail(message: string): never;
  /** A string flag as a number within limits, or fail(). */
  number(flag: StringFlag<F>, limits: { min: number; max?: number; integer?: boolean }): number;
}

/** Parses the command line; prints the help and exits 0 on --help, or fails on anything it does not know. */
export function parseCli<const F extends Record<string, Flag>>(spec: CliSpec<F>): Cli<F> {
  const entries = Object.entries(spec.flags);
  const lines = entries.map(([name, flag]) => {
    const placeholder = flag.type === 'string' ? ` ${flag.value ?? '<value>'}` : '';
    const shown = flag.default === undefined || flag.default === false ? '' : ` (default ${String(flag.default)})`;
    const [first = '', ...more] = flag.description.split('\n');
    return { left: `--${name}${placeholder}`, text: [first + shown, ...more] };
  });
  lines.push({ left: '--help', text: ['print this help and exit'] });
  const width = Math.max(...lines.map((line) => line.left.length)) + 2;
  const help = [
    `usage: ${spec.usage}`,
    ...lines.flatMap(({ left, text }) => text.map((part, i) => `  ${(i === 0 ? left : '').padEnd(width)}${part}`)),
  ].join('\n');

  const fail = (message: string): never => {
    console.error(`${spec.name ? `${spec.name}: ` : ''}${message}\n\n${help}`);
    process.exit(spec.usageExitCode ?? 2);
  };

  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      ...(spec.argv ? { args: spec.argv } : {}),
      options: {
        ...Object.fromEntries(
          entries.map(([name, flag]) => [
            name,
            flag.type === 'boolean'
              ? { type: 'boolean' as const, default: flag.default ?? false }
              : { type: 'string' as const, ...(flag.default === undefined ? {} : { default: flag.default }) },
          ]),
        ),
        help: { type: 'boolean', default: false },
      },
      allowPositionals: spec.positionals ?? false,
      strict: true,
    });
  } catch (error) {
    return fail((error as Error).message);
  }
  if (parsed.values['help']) {
    console.log(help);
    process.exit(0);
  }
  const flags = parsed.values as FlagValues<F>;

  const number = (flag: StringFlag<F>, { min, max, integer = false }: { min: number; max?: number; integer?: boolean }): number => {
    const text = parsed.values[flag];
    const value = typeof text === 'string' && text.trim() !== '' ? Number(text) : Number.NaN;
    if (Number.isFinite(value) && value >= min && value <= (max ?? Infinity) && (!integer || Number.isInteger(value))) return value;
    const kind = integer ? 'an integer' : 'a number';
    return fail(max === undefined ? `--${flag} must be ${kind} ≥ ${min}` : `--${flag} must be ${kind} from ${min} to ${max}`);
  };

  return { flags, positionals: parsed.positionals, help, fail, number };
}
