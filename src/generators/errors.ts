/** A failed attempt, with whether trying again could help. */
export class GeneratorError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'GeneratorError';
  }

  toJSON() {
    return { code: this.code, message: this.message, retryable: this.retryable };
  }
}

export class CancelledError extends GeneratorError {
  constructor(reason = 'Cancelled') {
    super('CANCELLED', reason, false);
    this.name = 'CancelledError';
  }
}
