import secureJson from 'secure-json-parse';
import { toDebt } from '../debts/serialize.js';
import { createDebt } from '../debts/service.js';
import { CreateDebtBody, DEBT_FIELDS, type DebtField } from '../debts/schema.js';
import { bodyChecker } from '../http/validation.js';
import { ApiError } from '../http/errors.js';
import { companyOf, idsOf, isForeignKeyViolation, UsageError, type Command, type Options } from './options.js';

/** Every field POST /debts takes, as a flag: `internal_id` is `--internal-id`. */
export const DEBT_FLAGS: Record<string, DebtField> = Object.fromEntries(DEBT_FIELDS.map((field) => [field.replace(/_/g, '-'), field]));
const checkCreateBody = bodyChecker(CreateDebtBody);
const FLAG_OF = new Map(Object.entries(DEBT_FLAGS).map(([flag, field]) => [field as string, `--${flag}`]));

export const debtCommands: Record<string, Command> = {
  'debt create': async (runtime, options) => {
    const companyId = companyOf(runtime, options);
    try {
      // The same validation as POST /debts: the flags are read into the body it takes.
      const body = debtBody(options);
      const row = await createDebt(companyId, { body, problems: checkCreateBody(body) }, runtime.db.pool);
      return toDebt(row, idsOf(runtime));
    } catch (error) {
      if (error instanceof ApiError && error.details) throw new UsageError(inFlags(error.details));
      if (isForeignKeyViolation(error)) throw new UsageError('--company: no such company');
      throw error;
    }
  },
};

function debtBody(options: Options): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [flag, field] of Object.entries(DEBT_FLAGS)) {
    const value = options[flag];
    if (typeof value === 'string') body[field] = value;
  }
  if (typeof body.amount === 'string') body.amount = amountOf(body.amount);
  if (typeof body.metadata === 'string') {
    try {
      // As the API reads bodies: a __proto__ or constructor.prototype key is refused.
      body.metadata = secureJson.parse(body.metadata, undefined, { protoAction: 'error', constructorAction: 'error' });
    } catch (error) {
      if (error instanceof SyntaxError && /prototype|__proto__/.test(error.message)) {
        throw new UsageError('--metadata must not contain a "__proto__" key, nor a "constructor" object with a "prototype" key');
      }
      throw new UsageError('--metadata must be a JSON object, such as \'{"crm_id": "C-1042"}\'');
    }
  }
  return body;
}

/** A decimal number as typed ("1250", "1250.50"); anything else is passed on for the validator to refuse. */
function amountOf(text: string): number | string {
  return /^\d{1,15}(\.\d+)?$/.test(text.trim()) ? Number(text) : text;
}

/** The API's messages, each naming its flag ("--internal-id must be …"), a message shared by two fields once. */
function inFlags(details: Record<string, string>): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const [field, message] of Object.entries(details)) {
    if (seen.has(message)) continue;
    seen.add(message);
    const flag = FLAG_OF.get(field) ?? field;
    lines.push(message.startsWith(`${field} `) ? `${flag}${message.slice(field.length)}` : `${flag}: ${message}`);
  }
  return lines.join('; ');
}
