// The console's URLs, in one place (the CLI prints invitation links; pages link to each other).
export const CONSOLE = '/console';
export const invitationPath = (secret: string) => `${CONSOLE}/uitnodiging/${secret}`;
export const requestPath = (id: string) => `${CONSOLE}/verzoeken/${id}`;
export const ASSETS = `${CONSOLE}/assets`;
