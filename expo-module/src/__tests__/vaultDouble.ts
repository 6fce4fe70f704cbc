/** A provider-held vault for the suites: an in-memory value with the failures real ones have. */
import type { SecretVault } from '..';

/** How the test vault misbehaves. */
export interface VaultFaults {
  /** `load` rejects with this message. */
  loadError?: string;
  /** `store` rejects with this message. */
  storeError?: string;
  /** `load` never settles. */
  hangLoad?: boolean;
  /** `store` never settles. */
  hangStore?: boolean;
  /** `store` resolves but keeps nothing. */
  dropWrites?: boolean;
  /** `store` keeps this value instead (another device won a race). */
  storeInstead?: string;
  /** `load` resolves this instead of the value (a provider SDK returning `undefined`, a number). */
  loadAnswer?: unknown;
}

/** An in-memory vault counting its calls. */
export class TestVault implements SecretVault {
  value: string | null;
  faults: VaultFaults = {};
  loads = 0;
  stores = 0;

  constructor(value: string | null = null) {
    this.value = value;
  }

  load(): Promise<string | null> {
    this.loads++;
    if (this.faults.hangLoad) return new Promise(() => {});
    if (this.faults.loadError !== undefined) return Promise.reject(new Error(this.faults.loadError));
    if ('loadAnswer' in this.faults) return Promise.resolve(this.faults.loadAnswer as string | null);
    return Promise.resolve(this.value);
  }

  store(secret: string): Promise<void> {
    this.stores++;
    if (this.faults.hangStore) return new Promise(() => {});
    if (this.faults.storeError !== undefined) return Promise.reject(new Error(this.faults.storeError));
    if (!this.faults.dropWrites) this.value = this.faults.storeInstead ?? secret;
    return Promise.resolve();
  }
}
