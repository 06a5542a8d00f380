// Which documents the server is given: YAML in general (the server itself decides what is a
// pipeline), the pipeline file names of each CI system in case another extension gives them a
// language of its own, and the Bicep and Terraform files whose agent pools and VMs name VM
// images, and the container files: Dockerfiles, Compose files (YAML, or the `dockercompose`
// language recent VS Code gives them), Kubernetes manifests (YAML, or the Kubernetes extension's `helm` for chart
// templates) and dev container definitions, the only JSON files handed over (by name: other JSON
// and JSONC files, settings and the like, are not pin-lint's). The server reads them as the
// command line does.

/** A `vscode.DocumentFilter`, without importing `vscode`. */
export interface DocumentFilter {
  readonly scheme: string;
  readonly language?: string;
  readonly pattern?: string;
}

/** Language ids of pipeline YAML: plain YAML, and the ids of the Azure Pipelines and GitHub
 * Actions extensions. */
export const PIPELINE_LANGUAGES = ['yaml', 'azure-pipelines', 'github-actions-workflow'] as const;

/** Pipeline files by name: Azure Pipelines, GitHub Actions, GitLab CI, dotnet-style `eng/pipelines`. */
export const PIPELINE_PATTERNS = [
  '**/azure-pipelines*.{yml,yaml}',
  '**/.github/workflows/*.{yml,yaml}',
  '**/.gitlab-ci.yml',
  '**/eng/pipelines/**/*.{yml,yaml}',
] as const;

/** Language ids of the Bicep and Terraform extensions (VS Code has neither built in). */
export const INFRA_LANGUAGES = ['bicep', 'terraform'] as const;

/** Bicep and Terraform files by name, whatever extension (if any) gives them a language. */
export const INFRA_PATTERNS = ['**/*.bicep', '**/*.tf'] as const;

/** Language ids of container files: Dockerfiles and Containerfiles, Compose files (both built
 * into VS Code) and Helm chart templates (the Kubernetes extension's id). */
export const CONTAINER_FILE_LANGUAGES = ['dockerfile', 'dockercompose', 'helm'] as const;

/** Dockerfiles and Containerfiles by name: `Dockerfile`, `Dockerfile.x`, `x.Dockerfile`. */
export const CONTAINER_FILE_PATTERNS = [
  '**/{Dockerfile,Containerfile,dockerfile,containerfile}',
  '**/{Dockerfile,Containerfile,dockerfile,containerfile}.*',
  '**/*.{Dockerfile,Containerfile,dockerfile,containerfile}',
] as const;

/** Dev container definitions by name (VS Code gives them the `jsonc` language): the only JSON
 * files the server is given. */
export const DEVCONTAINER_PATTERNS = ['**/.devcontainer.json', '**/.devcontainer/**/devcontainer.json'] as const;

/** The client's document selector: files on disk only (catalogs, `pin-lint.toml` and the
 * workspace index all live there). */
export const DOCUMENT_SELECTOR: readonly DocumentFilter[] = [
  ...[...PIPELINE_LANGUAGES, ...INFRA_LANGUAGES, ...CONTAINER_FILE_LANGUAGES].map((language) => ({ scheme: 'file', language })),
  ...[...PIPELINE_PATTERNS, ...INFRA_PATTERNS, ...CONTAINER_FILE_PATTERNS, ...DEVCONTAINER_PATTERNS].map((pattern) => ({ scheme: 'file', pattern })),
];
