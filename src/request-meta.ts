/** Who is asking from where: carried from the HTTP request into services and audit rows. */
export interface RequestMeta {
  requestId: string;
  ip: string | null;
  userAgent: string | null;
}

export const SYSTEM_REQUEST: RequestMeta = { requestId: "system", ip: null, userAgent: null };
