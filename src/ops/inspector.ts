// inspector.ts reaches the V8 inspector of the main thread and of every
// worker thread (the Piscina pools) from the main thread: one in-process
// session, with the NodeWorker domain attaching to each worker, so profilers
// run inside each thread without code in the workers and without pausing
// them.

import inspector from 'node:inspector';

/** ThreadTarget is a thread whose inspector can be sent commands. */
export interface ThreadTarget {
  /** name is `main` or the worker's title (e.g. `[worker 3] push`). */
  name: string;
  post<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T>;
}

interface AttachedWorker {
  sessionId: string;
  title: string;
  workerId: string;
}

/** COMMAND_TIMEOUT_MS bounds one command to a worker (a worker that exits never answers). */
const COMMAND_TIMEOUT_MS = 30_000;

/** InspectorHub holds the session and the attached workers. */
export class InspectorHub {
  private session: inspector.Session | undefined;
  private enabled: Promise<void> | undefined;
  private readonly workers = new Map<string, AttachedWorker>();
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private nextId = 1;
  private readonly attachHooks: Array<(t: ThreadTarget) => void> = [];

  private connect(): inspector.Session {
    if (this.session !== undefined) return this.session;
    const s = new inspector.Session();
    s.connect();
    s.on('NodeWorker.attachedToWorker', (m: { params: { sessionId: string; workerInfo: { workerId: string; title: string } } }) => {
      const { sessionId, workerInfo } = m.params;
      this.workers.set(sessionId, { sessionId, title: workerInfo.title, workerId: workerInfo.workerId });
      const target = this.workerTarget(sessionId, workerInfo.title);
      for (const hook of this.attachHooks) hook(target);
    });
    s.on('NodeWorker.detachedFromWorker', (m: { params: { sessionId: string } }) => {
      this.workers.delete(m.params.sessionId);
    });
    s.on('NodeWorker.receivedMessageFromWorker', (m: { params: { message: string } }) => {
      let msg: { id?: number; result?: unknown; error?: { message: string } };
      try {
        msg = JSON.parse(m.params.message) as typeof msg;
      } catch {
        return;
      }
      if (msg.id === undefined) return;
      const p = this.pending.get(msg.id);
      if (p === undefined) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.error !== undefined) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    });
    this.session = s;
    return s;
  }

  private postMain<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const s = this.connect();
    return new Promise((resolve, reject) => {
      s.post(method, params, (err, result) => (err !== null ? reject(err) : resolve(result as T)));
    });
  }

  /** ready attaches to the workers (once); workers started later attach as they start. */
  private ready(): Promise<void> {
    this.enabled ??= this.postMain('NodeWorker.enable', { waitForDebuggerOnStart: false }).then(() => undefined);
    return this.enabled;
  }

  private postWorker<T>(sessionId: string, method: string, params: Record<string, unknown>): Promise<T> {
    const s = this.connect();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`worker did not answer ${method}`));
      }, COMMAND_TIMEOUT_MS);
      timer.unref();
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      s.post('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id, method, params }) }, (err) => {
        if (err === null) return;
        this.pending.delete(id);
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** threads lists the main thread and every worker thread alive now. */
  async threads(): Promise<ThreadTarget[]> {
    await this.ready();
    const out: ThreadTarget[] = [{ name: 'main', post: (m, p) => this.postMain(m, p) }];
    for (const w of [...this.workers.values()].sort((a, b) => Number(a.workerId) - Number(b.workerId))) out.push(this.workerTarget(w.sessionId, w.title));
    return out;
  }

  private workerTarget(sessionId: string, title: string): ThreadTarget {
    return { name: title, post: (m, p) => this.postWorker(sessionId, m, p ?? {}) };
  }

  /** onAttach runs hook for every worker that attaches from now on. */
  onAttach(hook: (t: ThreadTarget) => void): void {
    this.attachHooks.push(hook);
  }

  /** on listens to an event of the main thread's session (e.g. NodeTracing.dataCollected); the result stops listening. */
  on<P>(event: string, fn: (params: P) => void): () => void {
    const s = this.connect();
    const listener = (m: { params: P }): void => fn(m.params);
    s.on(event, listener);
    return () => {
      s.off(event, listener);
    };
  }

  /** main is the main thread's target. */
  main(): ThreadTarget {
    return { name: 'main', post: (m, p) => this.postMain(m, p) };
  }

  /** close disconnects (pending worker commands fail). */
  close(): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error('inspector closed'));
      this.pending.delete(id);
    }
    this.session?.disconnect();
    this.session = undefined;
    this.enabled = undefined;
    this.workers.clear();
  }
}
