// The Anthropic TypeScript SDK's AnthropicBedrock client, as an application uses it, against the gateway.
//
//   node tests/js/anthropic_bedrock.mjs [--model M] STEP[=PROMPT] ...
//
// STEP is `create` (messages.create), `stream` (messages.stream) or `tool_use` (a tool call and its
// result sent back). The client is configured by the SDK's own environment variables, as users set
// them: ANTHROPIC_BEDROCK_BASE_URL=<gateway>/bedrock and AWS_BEARER_TOKEN_BEDROCK=<gateway key or Okta
// JWT> (with a bearer token the SDK sends `Authorization: Bearer` and does not SigV4-sign).
//
// Prints one JSON object: {"STEP[=PROMPT]" as given: result, ...}; a step that throws gives {"error": {...}} with the SDK's
// error class, so that the caller sees what a user of the SDK would catch. The SDK is loaded from
// JS_CLIENTS_DIR (default: <repo>/.local/js-clients, where `make js-clients` installs it).
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const CLIENTS = resolve(process.env.JS_CLIENTS_DIR ?? join(HERE, "..", "..", ".local", "js-clients"));
const { AnthropicBedrock } = createRequire(join(CLIENTS, "package.json"))("@anthropic-ai/bedrock-sdk");

const WEATHER = {
  name: "get_weather",
  description: "Current weather for a city",
  input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};
const DEFAULT_PROMPTS = { create: "hello from js", stream: "stream this from js", tool_use: "Weather in Paris?" };

const user = (text) => [{ role: "user", content: text }];

async function create(client, model, prompt) {
  const message = await client.messages.create({ model, max_tokens: 100, messages: user(prompt) });
  return {
    type: message.type,
    role: message.role,
    blocks: message.content.map((block) => block.type),
    text: message.content.map((block) => block.text ?? "").join(""),
    stop_reason: message.stop_reason,
    usage: message.usage,
  };
}

async function stream(client, model, prompt) {
  const deltas = [];
  const events = client.messages.stream({ model, max_tokens: 100, messages: user(prompt) });
  events.on("text", (delta) => deltas.push(delta));
  const final = await events.finalMessage();
  return {
    deltas: deltas.length,
    streamed_text: deltas.join(""),
    final_text: final.content.map((block) => block.text ?? "").join(""),
    stop_reason: final.stop_reason,
    output_tokens: final.usage.output_tokens,
  };
}

async function toolUse(client, model, prompt) {
  const messages = user(prompt);
  const first = await client.messages.create({ model, max_tokens: 100, tools: [WEATHER], messages });
  const call = first.content.find((block) => block.type === "tool_use");
  const result = { first_stop_reason: first.stop_reason, call: call ? { name: call.name, input: call.input } : null };
  if (!call) return result;
  messages.push(
    { role: "assistant", content: first.content },
    { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "21 C, sunny" }] },
  );
  const second = await client.messages.create({ model, max_tokens: 100, tools: [WEATHER], messages });
  return { ...result, stop_reason: second.stop_reason, text: second.content.map((b) => b.text ?? "").join("") };
}

const STEPS = { create, stream, tool_use: toolUse };

function describe(error) {
  const body = error.error; // the parsed error body, on API errors
  return {
    class: error.constructor?.name ?? typeof error,
    api_error: error instanceof AnthropicBedrock.APIError,
    rate_limit_error: error instanceof AnthropicBedrock.RateLimitError,
    status: error.status ?? null,
    errortype: error.headers?.get?.("x-amzn-errortype") ?? null,
    body: body ?? null,
    message: String(error.message ?? error),
  };
}

function parseArgs(argv) {
  let model = "fake-chat";
  const steps = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--model") {
      model = argv[++i];
      continue;
    }
    const [name, ...rest] = argv[i].split("=");
    if (!(name in STEPS)) throw new Error(`unknown step ${JSON.stringify(name)}: one of ${Object.keys(STEPS)}`);
    steps.push([argv[i], name, rest.length ? rest.join("=") : DEFAULT_PROMPTS[name]]);
  }
  if (!steps.length || !model) throw new Error("usage: anthropic_bedrock.mjs [--model M] STEP[=PROMPT] ...");
  return { model, steps };
}

const { model, steps } = parseArgs(process.argv.slice(2));
const client = new AnthropicBedrock({ maxRetries: 0 }); // base URL and bearer token from the environment
const report = {};
for (const [key, name, prompt] of steps) {
  try {
    report[key] = await STEPS[name](client, model, prompt);
  } catch (error) {
    report[key] = { error: describe(error) };
  }
}
console.log(JSON.stringify(report));
