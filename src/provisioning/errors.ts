// errors.ts holds the provisioning API's failures as Grafana answers them:
// a JSON body `{"message": ...}` (plus `messageId` and `statusCode` for the
// errors Grafana builds with its errutil package) and the status code.

/** ProvisioningError is a failure of the provisioning API with Grafana's status and text. */
export class ProvisioningError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** messageId is Grafana's errutil message id (absent for plain errors). */
    readonly messageId?: string,
  ) {
    super(message);
    this.name = 'ProvisioningError';
  }

  /** body renders the JSON answer. */
  body(): string {
    if (this.messageId === undefined) return JSON.stringify({ message: this.message });
    return JSON.stringify({ message: this.message, messageId: this.messageId, statusCode: this.status });
  }
}

/** badRequest is a 400 with Grafana's plain `{"message"}` body. */
export function badRequest(message: string): ProvisioningError {
  return new ProvisioningError(400, message);
}

/** invalidRule is models.ErrAlertRuleFailedValidation wrapping a reason (400). */
export function invalidRule(reason: string): ProvisioningError {
  return new ProvisioningError(400, `invalid alert rule: ${reason}`);
}

/** invalidObject is provisioning.ErrValidation wrapping a reason (400). */
export function invalidObject(reason: string): ProvisioningError {
  return new ProvisioningError(400, `invalid object specification: ${reason}`);
}

/** notFound is a 404 with a message. */
export function notFound(message: string, messageId?: string): ProvisioningError {
  return new ProvisioningError(404, message, messageId);
}

/** provenanceMismatch is Grafana's ErrProvenanceChangeNotAllowed (403). */
export function provenanceMismatch(from: string, to: string): ProvisioningError {
  return new ProvisioningError(
    403,
    `Resource with provenance status '${from}' cannot be managed via API that handles resources with provenance status '${to}'. You must use appropriate API and permissions to manage this resource`,
    'alerting.notifications.invalidProvenance',
  );
}

/** versionConflict is Grafana's ErrVersionConflict (409): the caller's version is stale. */
export function versionConflict(kind: string, name: string, given: string, current: string): ProvisioningError {
  return new ProvisioningError(409, `provided version ${given} of ${kind} ${name} does not match current version ${current}`, 'alerting.notifications.conflict');
}

/** conflict is a 409 with an errutil message id. */
export function conflict(message: string, messageId: string): ProvisioningError {
  return new ProvisioningError(409, message, messageId);
}
