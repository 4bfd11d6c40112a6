/** `from` is inclusive, `before` exclusive. */
export interface TimeRange {
  from?: Date;
  before?: Date;
}

/**
 * The WHERE conditions of a list query, ANDed; every value goes through a numbered parameter,
 * never into the SQL text. Columns are the caller's constants.
 */
export class Where {
  readonly params: unknown[] = [];
  private readonly conditions: string[] = [];

  /** The placeholder of a new parameter holding `value`. */
  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  add(condition: (placeholder: string) => string, value: unknown): this {
    return this.condition(condition(this.param(value)));
  }

  /** A condition whose values are already parameters (placeholders from `param`). */
  condition(sql: string): this {
    this.conditions.push(sql);
    return this;
  }

  equals(column: string, value: unknown): this {
    return value === undefined ? this : this.add((p) => `${column} = ${p}`, value);
  }

  /** One value compares with =, so that an index on the column can also give the order. */
  oneOf(column: string, values: readonly string[] | undefined): this {
    if (!values) return this;
    return values.length === 1 ? this.equals(column, values[0]) : this.add((p) => `${column} = ANY(${p}::text[])`, values);
  }

  within(column: string, range: TimeRange | undefined): this {
    if (range?.from) this.add((p) => `${column} >= ${p}`, range.from);
    if (range?.before) this.add((p) => `${column} < ${p}`, range.before);
    return this;
  }

  since(column: string, instant: Date | undefined): this {
    return instant ? this.add((p) => `${column} >= ${p}`, instant) : this;
  }

  toString(): string {
    return this.conditions.join(' AND ');
  }
}
