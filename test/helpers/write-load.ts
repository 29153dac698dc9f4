import type { User } from '../../src/users/users.schemas.js';
import { userInput } from './factories.js';

/** What the server had acknowledged at a moment: every live user as last answered, and the deleted ids. */
export interface Acknowledged {
  users: Map<number, User>;
  deleted: Set<number>;
}

const json = { 'content-type': 'application/json' };

/**
 * A concurrent write load on a running server (creates, and some PATCHes and DELETEs) that remembers every
 * acknowledged answer. freeze() notes what was acknowledged so far; from then on the load only changes users
 * created after it, so the frozen state stays exactly what a consistent copy taken later must hold.
 */
export class WriteLoad {
  private readonly users = new Map<number, User>();
  private readonly deleted = new Set<number>();
  /** Users a PATCH or DELETE is in flight for: never two at once, so the last answer is the stored state. */
  private readonly busy = new Set<number>();
  /** Users created after freeze(), the only ones changed from then on (undefined until then). */
  private afterFreeze: Set<number> | undefined;
  private stopping = false;
  private writers: Promise<void>[] = [];
  /** Answers other than the expected 201/200, or failed requests; none are expected. */
  readonly failures: string[] = [];
  acknowledged = 0;

  constructor(
    private readonly url: string,
    private readonly prefix: string,
  ) {}

  start(writers = 6): void {
    this.writers = Array.from({ length: writers }, (_, writer) => this.write(writer));
  }

  /** Resolves once `count` more writes have been acknowledged (failing early if the load fails). */
  async waitFor(count: number): Promise<void> {
    const target = this.acknowledged + count;
    while (this.acknowledged < target) {
      if (this.failures.length > 0) throw new Error(`the write load failed: ${this.failures.slice(0, 5).join('; ')}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** What was acknowledged until now, leaving out users with a change in flight (it may land either side). */
  freeze(): Acknowledged {
    this.afterFreeze = new Set();
    const users = new Map([...this.users].filter(([id]) => !this.busy.has(id)).map(([id, user]) => [id, { ...user }]));
    return { users, deleted: new Set(this.deleted) };
  }

  /** Stops the writers and waits for their last requests. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.writers);
  }

  /** Every user as last acknowledged. */
  current(): Map<number, User> {
    return new Map(this.users);
  }

  private pickTarget(): number | undefined {
    const pool = [...(this.afterFreeze ?? this.users.keys())].filter((id) => this.users.has(id) && !this.busy.has(id));
    return pool[Math.floor(Math.random() * pool.length)];
  }

  private async write(writer: number): Promise<void> {
    for (let i = 0; !this.stopping; i++) {
      const kind = i % 10;
      const target = kind >= 7 ? this.pickTarget() : undefined;
      try {
        if (target === undefined) await this.create(`${this.prefix}.${writer}.${i}`);
        else if (kind === 9) await this.remove(target);
        else await this.patch(target, i);
      } catch (error) {
        this.failures.push(`writer ${writer}: ${String(error)}`);
        return;
      }
    }
  }

  private async create(name: string): Promise<void> {
    const response = await fetch(`${this.url}/users/`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify(userInput({ email: `${name}.${Date.now().toString(36)}@example.com` })),
    });
    const body = await response.text();
    if (response.status !== 201) return void this.failures.push(`POST ${response.status} ${body}`);
    const user = JSON.parse(body) as User;
    this.users.set(user.id, user);
    this.afterFreeze?.add(user.id);
    this.acknowledged++;
  }

  private async patch(id: number, i: number): Promise<void> {
    this.busy.add(id);
    try {
      const response = await fetch(`${this.url}/users/${id}`, { method: 'PATCH', headers: json, body: JSON.stringify({ last_name: `Patched ${i}` }) });
      const body = await response.text();
      if (response.status !== 200) return void this.failures.push(`PATCH ${response.status} ${body}`);
      this.users.set(id, JSON.parse(body) as User);
      this.acknowledged++;
    } finally {
      this.busy.delete(id);
    }
  }

  private async remove(id: number): Promise<void> {
    this.busy.add(id);
    try {
      const response = await fetch(`${this.url}/users/${id}`, { method: 'DELETE' });
      await response.arrayBuffer();
      if (response.status !== 200) return void this.failures.push(`DELETE ${response.status}`);
      this.users.delete(id);
      this.deleted.add(id);
      this.acknowledged++;
    } finally {
      this.busy.delete(id);
    }
  }
}
