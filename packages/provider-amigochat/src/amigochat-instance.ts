import { AmigoChat } from "./amigochat-provider.js";

/**
 * An instance made on first use, so that importing the package never throws: a bad
 * `AMIGOCHAT_BASE_URL` is reported (as an `AmigoChatOptionsError` naming the
 * variable) when the instance is first used, not when a registry imports the
 * package to discover it.
 */
function lazyAmigoChat(): AmigoChat {
  let instance: AmigoChat | undefined;
  const real = (): AmigoChat => {
    instance ??= new AmigoChat();
    return instance;
  };
  // The target only lends the prototype, so `instanceof AmigoChat` holds; every
  // read goes to the real instance, and methods are bound to it (its fields are private).
  return new Proxy(Object.create(AmigoChat.prototype) as AmigoChat, {
    get(_target, key) {
      const target = real();
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
    set: (_target, key, value) => Reflect.set(real(), key, value),
    has: (_target, key) => Reflect.has(real(), key),
    ownKeys: () => Reflect.ownKeys(real()),
    getOwnPropertyDescriptor(_target, key) {
      const descriptor = Reflect.getOwnPropertyDescriptor(real(), key);
      return descriptor === undefined ? undefined : { ...descriptor, configurable: true };
    },
  });
}

/**
 * A ready instance with the default options (the base URL from `AMIGOCHAT_BASE_URL`,
 * read when the instance is first used).
 */
export const amigoChat: AmigoChat = lazyAmigoChat();
