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

/** targetList splits -target into its modules, in order, without duplicates ("all,alertmanager" -> ["all", "alertmanager"]). */
export function targetList(target: string): string[] {
  return [...new Set(target.split(',').map((t) => t.trim()).filter((t) => t !== ''))];
}

/**
 * modulesForTarget lists the services -target starts. As Mimir, `all` is the
 * monolithic set without the alertmanager; `-target=all,alertmanager` adds it.
 */
export function modulesForTarget(target: string): string[] {
  const out = ['server'];
  for (const t of targetList(target)) {
    const mods = t === 'all' ? ['distributor', 'ingester', 'querier', 'store-gateway'] : [t];
    for (const m of mods) if (!out.includes(m)) out.push(m);
  }
  return out;
}
