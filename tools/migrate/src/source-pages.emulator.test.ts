import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { testProjectId } from "@syncstack/shared/testing";
import { captureIo, docId, migrationFixture, seed, testOptions } from "./migration-test-setup.ts";
import { runMigration } from "./run-migration.ts";
import { firstQueryPages, openSource, type SourcePage } from "./source-pages.ts";

const projectId = testProjectId();
const fixture = migrationFixture(projectId);
const { db } = fixture;

async function readPages(pageSize: number, firstPages: number): Promise<SourcePage[]> {
  const pages: SourcePage[] = [];
  for await (const page of openSource(db, "notes", []).pages(null, pageSize, firstPages)) {
    pages.push(page);
  }
  return pages;
}

const shape = (pages: readonly SourcePage[]) =>
  pages.map((page) => ({
    ids: page.docs.map((doc) => doc.id),
    after: page.after.id,
    query: page.query,
  }));

describe("source pages", () => {
  test("a source of whole pages comes from the first query in whole pages, in id order", async () => {
    await seed(db, "notes", 6);
    assert.deepEqual(shape(await readPages(2, 3)), [
      { ids: [docId(0), docId(1)], after: docId(1), query: 1 },
      { ids: [docId(2), docId(3)], after: docId(3), query: 1 },
      { ids: [docId(4), docId(5)], after: docId(5), query: 1 },
    ]);
  });

  test("pages stay whole across queries, in id order, each cursor after its last document", async () => {
    await seed(db, "notes", 9);
    // The first query asks for 3 pages and one more document, 7; the second reads the rest.
    assert.deepEqual(shape(await readPages(2, 3)), [
      { ids: [docId(0), docId(1)], after: docId(1), query: 1 },
      { ids: [docId(2), docId(3)], after: docId(3), query: 1 },
      { ids: [docId(4), docId(5)], after: docId(5), query: 1 },
      { ids: [docId(6), docId(7)], after: docId(7), query: 2 },
      { ids: [docId(8)], after: docId(8), query: 2 },
    ]);
  });

  test("a source of exactly the first query's pages plus one ends with the page its query read", async () => {
    await seed(db, "notes", 7);
    const pages = shape(await readPages(2, 3));
    assert.deepEqual(pages.at(-1), { ids: [docId(6)], after: docId(6), query: 1 });
    assert.equal(pages.length, 4);
  });

  test("a plain copy's first query asks for 100 pages; a transform, --recursive or --delete-source's for 20", () => {
    const run = { transform: false, recursive: false, deleteSource: false };
    assert.equal(firstQueryPages(run), 100);
    assert.equal(firstQueryPages({ ...run, transform: true }), 20);
    assert.equal(firstQueryPages({ ...run, recursive: true }), 20);
    assert.equal(firstQueryPages({ ...run, deleteSource: true }), 20);
  });

  test("a run read to the end within its first query shows what it read as the total", async () => {
    await seed(db, "notes", 250);
    const io = captureIo();
    await runMigration(db, testOptions(fixture.dir(), { from: "notes", to: "copy" }), io);
    assert.match(io.progressText(), /notes -> copy 250\/250 \(100\.0%\) [\d,]+ docs\/s ETA 0s\n$/);
  });
});
