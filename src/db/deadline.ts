/**
 * `pending`, or the error `late` returns once `deadlineMs` has passed, whichever comes first.
 * What `pending` stands for is not cancelled: `late` is where the caller abandons it (the
 * database pool and the decision lanes replace the client it is stuck on).
 */
export function within<T>(pending: PromiseLike<T>, deadlineMs: number, late: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(late()), deadlineMs);
    pending.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
