/** The one app every scenario calls as; the server's configuration and the clients share it. */
export const APP = { bk_app_code: 'bench', bk_app_secret: 'bench-secret', bk_username: 'bench' } as const;
