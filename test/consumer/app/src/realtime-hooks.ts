import type { RealtimeHooks } from 'serverless-websocket-backend/hooks';

/** The shop's rules: staff rooms for staff only, no spam, and shouting is the house style. */
export const hooks: RealtimeHooks = {
  authorizeJoin: ({ user, room }) => room !== 'staff' || user.id.startsWith('staff-'),
  beforeSend: ({ data }) => {
    if (typeof data !== 'object' || data === null || !('text' in data)) return undefined;
    const text = String(data.text);
    if (text.includes('spam')) return { reject: 'No spam in the shop, please.' };
    return { data: { ...data, text: text.toUpperCase() } };
  },
};
