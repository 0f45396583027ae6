// Calls to the app's /api (the agent's API for the signed-in user). Errors become ApiError with a
// message a person can act on; the status tells the caller which state to show.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
  get agentDown() {
    return this.status === 0 || this.status === 502 || this.status === 503 || this.status === 504;
  }
}

function describe(status, error) {
  if (status === 502 || status === 504) return 'The agent is not answering right now. Try again in a moment.';
  if (status === 401) return 'You are signed out. Reload the page to sign in again.';
  if (status === 429) return 'Too many requests. Wait a few seconds and try again.';
  if (status === 409) return 'The agent is still answering in this chat. Stop it or wait for it to finish.';
  return (error && error.message) || `The request failed (${status}).`;
}

export async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch('/api' + path, init);
  } catch {
    throw new ApiError(0, 'network', 'The app cannot be reached. Check the connection.');
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = data && data.error ? data.error : {};
    throw new ApiError(response.status, error.code || `http_${response.status}`, describe(response.status, error));
  }
  return data;
}
