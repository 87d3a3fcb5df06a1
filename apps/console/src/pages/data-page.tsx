import { useCallback, useEffect, useState } from "react";
import type { Api } from "../api.ts";
import type { CollectionView, DocumentView } from "../types.ts";

/** The app collections, read-only: documents with version, creator and tombstones. */
export function DataPage({ api }: { api: Api }) {
  const [collections, setCollections] = useState<CollectionView[] | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [documents, setDocuments] = useState<DocumentView[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const loadCollections = useCallback(async () => {
    try {
      const answer = await api.get<{ collections: CollectionView[] }>("/v1/console/collections");
      setCollections(answer.collections);
      setOpen((current) => current ?? answer.collections[0]?.name ?? null);
    } catch (failure) {
      setError((failure as Error).message);
    }
  }, [api]);
  const loadDocuments = useCallback(
    async (name: string, after?: string) => {
      try {
        const query = new URLSearchParams({ limit: "50", ...(after ? { after } : {}) });
        const answer = await api.get<{ documents: DocumentView[]; next_after: string | null }>(
          `/v1/console/collections/${encodeURIComponent(name)}/documents?${query}`,
        );
        setDocuments((current) => (after ? [...current, ...answer.documents] : answer.documents));
        setNext(answer.next_after);
      } catch (failure) {
        setError((failure as Error).message);
      }
    },
    [api],
  );
  useEffect(() => {
    void loadCollections();
  }, [loadCollections]);
  useEffect(() => {
    if (open) void loadDocuments(open);
  }, [open, loadDocuments]);

  return (
    <section>
      <h2>Data</h2>
      <p className="muted">
        App collections, read-only. Tombstones are deleted documents the change feed still reports.
      </p>
      {error && <p className="error">{error}</p>}
      <div className="tabs">
        {collections?.map((collection) => (
          <button
            key={collection.name}
            type="button"
            className={collection.name === open ? "active" : ""}
            data-testid="collection"
            data-name={collection.name}
            onClick={() => setOpen(collection.name)}
          >
            {collection.name}{" "}
            <span className="muted">
              ({collection.documents}, {collection.tombstones} deleted, {collection.policy})
            </span>
          </button>
        ))}
        <button
          type="button"
          onClick={() =>
            void loadCollections().then(() => (open ? loadDocuments(open) : undefined))
          }
        >
          Refresh
        </button>
      </div>
      {collections?.length === 0 && <p>No app collections yet.</p>}
      {open && (
        <table data-testid="documents">
          <thead>
            <tr>
              <th>id</th>
              <th>version</th>
              <th>creator</th>
              <th>state</th>
              <th>updated</th>
              <th>data</th>
            </tr>
          </thead>
          <tbody>
            {documents.map((document) => (
              <tr
                key={document.id}
                data-testid="document"
                data-id={document.id}
                className={document.deleted ? "tombstone" : ""}
              >
                <td>{document.id}</td>
                <td data-testid="version">{document.version ?? "–"}</td>
                <td data-testid="creator">{document.created_by ?? "–"}</td>
                <td data-testid="state">
                  {document.deleted ? `tombstone since ${document.deleted_at ?? "?"}` : "live"}
                </td>
                <td>{document.updated_at ?? "–"}</td>
                <td>
                  <code className="json">{JSON.stringify(document.data)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next && open && (
        <button type="button" onClick={() => void loadDocuments(open, next)}>
          More
        </button>
      )}
    </section>
  );
}
