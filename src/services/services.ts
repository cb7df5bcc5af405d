// services.ts tracks the modules a process runs and their states, as
// dskit's services do: /services lists them and /ready answers 200 only once
// every one is Running.

/** ServiceState follows dskit's service states. */
export type ServiceState = 'New' | 'Starting' | 'Running' | 'Stopping' | 'Terminated' | 'Failed';

/** ServiceManager holds the state of each named service, in start order. */
export class ServiceManager {
  private readonly states = new Map<string, ServiceState>();

  /** add registers a service in state New. */
  add(name: string): void {
    this.states.set(name, 'New');
  }

  /** set moves a service to a state. */
  set(name: string, state: ServiceState): void {
    this.states.set(name, state);
  }

  /** setAll moves every service to a state. */
  setAll(state: ServiceState): void {
    for (const name of this.states.keys()) this.states.set(name, state);
  }

  /** list returns [name, state] pairs in registration order. */
  list(): Array<[string, ServiceState]> {
    return [...this.states.entries()];
  }

  /** notRunning lists the services that are not Running (empty when ready). */
  notRunning(): Array<[string, ServiceState]> {
    return this.list().filter(([, s]) => s !== 'Running');
  }
}

/** modulesForTarget lists the services -target starts. */
export function modulesForTarget(target: string): string[] {
  switch (target) {
    case 'all':
      return ['server', 'distributor', 'ingester', 'querier', 'store-gateway'];
    case 'distributor':
    case 'ingester':
    case 'querier':
    case 'store-gateway':
      return ['server', target];
    default:
      return ['server', target];
  }
}
