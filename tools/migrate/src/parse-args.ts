import { type ParseArgsConfig, parseArgs as parseNodeArgs } from "node:util";
import { parseWhere, type WhereClause, whereOperators } from "./parse-where.ts";

/** What `./syncstack migrate` was asked to do, before anything is read or connected. */
export interface MigrateArgs {
  from: string;
  to: string;
  transform: string | undefined;
  where: WhereClause[];
  recursive: boolean;
  deleteSource: boolean;
  dryRun: boolean;
  resume: boolean;
  restart: boolean;
  checkpoint: string | undefined;
  report: string | undefined;
  pageSize: number;
  project: string | undefined;
}

/** The parser's answer: arguments to run with, a request for help, or what is wrong. */
export type ParsedArgs =
  | { kind: "run"; args: MigrateArgs }
  | { kind: "help" }
  | { kind: "error"; message: string };

/** The help text, printed with every argument error too. */
export const usage = `usage: ./syncstack migrate --from <collection> --to <collection> [options]

Copies the documents of one collection to another page by page with BulkWriter, keeping
ids and every Firestore type, optionally transformed, filtered and with subcollections.

  --from <collection>        source collection path (notes, users/u1/notes)
  --to <collection>          target collection path; may equal --from with --transform
  --transform <module>       .ts or .js module exporting transform(data, id) (or default)
                             that returns the new data, or null to skip the document
  --where "<field op value>" filter the source (repeatable); op is one of
                             ${whereOperators.join(" ")};
                             the value is JSON when it parses (10, true, null, "a b", ["x"])
  --recursive                copy subcollections too, to the same paths under the target
  --delete-source            delete each source document once its copy is written
  --dry-run                  read and transform everything and report; write nothing
  --resume                   continue an interrupted run from its checkpoint
  --restart                  discard the checkpoint and failure report, start over
  --checkpoint <file>        default .syncstack/migrations/<from>-><to>.json
  --report <file>            failures as NDJSON, default beside the checkpoint
  --page-size <n>            documents per read, 1-10000 (default 500)
  --project <id>             the Google Cloud project to migrate, with the usual Google
                             credentials (with FIRESTORE_EMULATOR_HOST: the emulator's
                             project, default $GOOGLE_CLOUD_PROJECT)
  -h, --help                 this text

Uses the Firestore emulator at FIRESTORE_EMULATOR_HOST when it is set, else the project named
by --project, else the running local stack (.syncstack/stack.json); with none of them it
stops and says so. Exit codes: 0 done, 1 documents failed (see the report) or the run
stopped on an error, 2 bad arguments (nothing touched), 130 interrupted (use --resume).`;

const stringOptions = [
  "from",
  "to",
  "transform",
  "where",
  "checkpoint",
  "report",
  "page-size",
  "project",
] as const;
const flagOptions = ["recursive", "delete-source", "dry-run", "resume", "restart"] as const;
const options = {
  ...Object.fromEntries(stringOptions.map((name) => [name, { type: "string", multiple: true }])),
  ...Object.fromEntries(flagOptions.map((name) => [name, { type: "boolean" }])),
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsConfig["options"];

/** Parses and validates the command line without touching files or the network. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  // Not strict: node's messages for a missing value or an unknown option would replace the
  // CLI's own, so its tokens are checked here, in order, with `--help` winning over any error.
  const { values, tokens } = parseNodeArgs({
    args: [...argv],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  if (values.help === true) return { kind: "help" };
  for (const token of tokens) {
    if (token.kind === "positional") return error(`unexpected argument ${token.value}`);
    if (token.kind !== "option") return error("unexpected argument --");
    const { name, value } = token;
    if (token.rawName !== `--${name}` || !Object.hasOwn(options, name)) {
      return error(`unknown option ${token.rawName}`);
    }
    const isFlag = options[name as keyof typeof options].type === "boolean";
    if (isFlag && value !== undefined) return error(`--${name} takes no value`);
    // `--from --to b` would otherwise copy from a collection named "--to".
    if (!isFlag && (!value || (!token.inlineValue && value.startsWith("--")))) {
      return error(`--${name} needs a value`);
    }
  }
  const strings = new Map(
    stringOptions.map((name) => [name, (values[name] ?? []) as string[]] as const),
  );
  for (const [name, given] of strings) {
    if (name !== "where" && given.length > 1) return error(`--${name} is given twice`);
  }
  const flags = new Set(flagOptions.filter((name) => values[name] === true));
  const single = (name: (typeof stringOptions)[number]) => strings.get(name)?.[0];
  const from = single("from");
  const to = single("to");
  if (from === undefined || to === undefined) return error("--from and --to are required");
  const problem = checkCollectionPath("--from", from) ?? checkCollectionPath("--to", to);
  if (problem) return error(problem);
  const where: WhereClause[] = [];
  for (const text of strings.get("where") ?? []) {
    const clause = parseWhere(text);
    if (typeof clause === "string") return error(clause);
    where.push(clause);
  }
  const pageSizeText = single("page-size") ?? "500";
  const pageSize = Number(pageSizeText);
  if (!/^\d+$/.test(pageSizeText) || pageSize < 1 || pageSize > 10_000) {
    return error(`--page-size must be a whole number from 1 to 10000, not ${pageSizeText}`);
  }
  const args: MigrateArgs = {
    from,
    to,
    transform: single("transform"),
    where,
    recursive: flags.has("recursive"),
    deleteSource: flags.has("delete-source"),
    dryRun: flags.has("dry-run"),
    resume: flags.has("resume"),
    restart: flags.has("restart"),
    checkpoint: single("checkpoint"),
    report: single("report"),
    pageSize,
    project: single("project"),
  };
  const conflict = findConflict(args);
  return conflict ? error(conflict) : { kind: "run", args };
}

function findConflict(args: MigrateArgs): string | undefined {
  if (args.from === args.to) {
    if (!args.transform) return "--from and --to are the same collection: nothing to copy";
    if (args.deleteSource) return "--delete-source with --from equal to --to deletes the data";
    if (args.recursive) return "--recursive with --from equal to --to rewrites subcollections";
  }
  if (args.recursive && args.to.startsWith(`${args.from}/`)) {
    return "--recursive into a collection inside --from would copy the copy";
  }
  if (args.resume && args.restart) return "--resume and --restart exclude each other";
  if (args.dryRun && (args.resume || args.restart)) {
    return "--dry-run keeps no checkpoint: it takes neither --resume nor --restart";
  }
  return undefined;
}

/** Firestore's rules for a collection path: odd segment count, each a valid id. */
function checkCollectionPath(option: string, path: string): string | undefined {
  const segments = path.split("/");
  if (segments.length % 2 === 0) return `${option} ${path} is a document path, not a collection`;
  for (const segment of segments) {
    if (segment === "" || segment === "." || segment === ".." || /^__.*__$/.test(segment)) {
      return `${option} ${path}: "${segment}" is not a valid collection or document id`;
    }
    if (Buffer.byteLength(segment) > 1_500) return `${option} ${path}: an id is over 1,500 bytes`;
  }
  return undefined;
}

function error(message: string): ParsedArgs {
  return { kind: "error", message };
}
