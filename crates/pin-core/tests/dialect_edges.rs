//! Edges of the dialects that the rule and corpus tests do not reach: which values are
//! images, at which site, and the dialects' names.

use pin_core::dialect::Dialect;
use pin_core::model::Site;
use pin_core::Analysis;

/// `(text, site)` of every reference of `text` read as `path`.
fn refs(path: &str, text: &str) -> Vec<(String, Site)> {
    Analysis::new(path, text.to_string())
        .references
        .iter()
        .map(|r| (r.text.clone(), r.site))
        .collect()
}

/// `text` read as `path` has exactly the references `expected` (text, site), in order.
fn check_refs(path: &str, text: &str, expected: &[(&str, Site)]) {
    let expected: Vec<(String, Site)> = expected.iter().map(|(t, s)| (t.to_string(), *s)).collect();
    assert_eq!(refs(path, text), expected);
}

/// The text of every reference of `text` read as `path`.
fn texts(path: &str, text: &str) -> Vec<String> {
    refs(path, text).into_iter().map(|(t, _)| t).collect()
}

/// The text and kind of every reference of `analysis`, in order.
fn kinds_of(analysis: &Analysis) -> Vec<(String, pin_core::Kind)> {
    analysis
        .references
        .iter()
        .map(|r| (r.text.clone(), r.kind))
        .collect()
}

/// `text` read as `path` has exactly the references `expected` (text, kind), in order.
fn check_kinds(path: &str, text: &str, expected: &[(&str, pin_core::Kind)]) {
    let expected: Vec<(String, pin_core::Kind)> =
        expected.iter().map(|(t, k)| (t.to_string(), *k)).collect();
    assert_eq!(kinds_of(&Analysis::new(path, text.to_string())), expected);
}

/// Each dialect's human name, and the line comment a `pin-lint: ignore` is written after
/// (what the editor's "ignore" action inserts).
#[test]
fn dialects_have_human_names_and_line_comments() {
    for (dialect, name, comment) in [
        (Dialect::AzurePipelines, "Azure Pipelines", "#"),
        (Dialect::GithubActions, "GitHub Actions", "#"),
        (Dialect::GitlabCi, "GitLab CI", "#"),
        (Dialect::Arm, "Azure Resource Manager", "#"),
        (Dialect::Bicep, "Bicep", "//"),
        (Dialect::Terraform, "Terraform", "#"),
        (Dialect::Compose, "Compose", "#"),
        (Dialect::Kubernetes, "Kubernetes", "#"),
        (Dialect::Kustomize, "Kustomize", "#"),
        (Dialect::HelmTemplate, "Helm template", "#"),
        (Dialect::Dockerfile, "Dockerfile", "#"),
        (Dialect::Devcontainer, "dev container", "//"),
    ] {
        assert_eq!(dialect.name(), name);
        assert_eq!(dialect.line_comment(), comment, "{name}");
    }
}

/// A variable is an image only when it starts with a registry host: a repository path
/// without one is left alone, and so is a value with blanks in it (a command line).
#[test]
fn azure_variables_are_images_only_after_a_registry_host() {
    let text = "variables:\n  tool: team/tool:1\n  img: mcr.microsoft.com/x/y:2\n  built: mcr.microsoft.com/x/$(name):1\n  cmd: mcr.microsoft.com/x/$(name):1 --rm\njobs:\n- job: a\n  steps:\n  - script: make\n";
    let refs = refs("azure-pipelines.yml", text);
    let texts: Vec<&str> = refs.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        texts,
        ["mcr.microsoft.com/x/y:2", "mcr.microsoft.com/x/$(name):1"],
        "{refs:?}"
    );
    assert!(refs.iter().all(|(_, s)| *s == Site::Variable), "{refs:?}");
}

/// A `variables:` list item that is not a `name`/`value` pair (Azure Pipelines rejects it)
/// is still read for the sites it holds: a mistake elsewhere in the item does not hide a
/// hosted image that a lint run should report.
#[test]
fn azure_variables_items_that_are_no_pair_are_still_read() {
    let text = "variables:\n- value: x\n  vmImage: ubuntu-20.04\n- name: y\n  pool:\n    vmImage: ubuntu-22.04\n- name: ok\n  value: mcr.microsoft.com/x/y:1\n";
    check_refs(
        "azure-pipelines.yml",
        text,
        &[
            ("ubuntu-20.04", Site::VmImage),
            ("ubuntu-22.04", Site::VmImage),
            ("mcr.microsoft.com/x/y:1", Site::Variable),
        ],
    );
}

/// Which dialect a file is read as, from its name and content.
#[test]
fn dialects_are_told_apart_by_name_and_content() {
    let services = "services:\n  web:\n    image: nginx:1.27\n";
    let workflow = "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n";
    let action = "name: a\nruns:\n  using: docker\n  image: docker://alpine:3.20\n";
    let described = "description: a\nruns:\n  using: docker\n  image: docker://alpine:3.20\n";
    for (path, text, dialect) in [
        ("docker-compose.yml", services, Some(Dialect::Compose)),
        (
            "docker-compose.override.yaml",
            services,
            Some(Dialect::Compose),
        ),
        ("compose.yaml", services, Some(Dialect::Compose)),
        ("compose.prod.yml", services, Some(Dialect::Compose)),
        ("deploy/compose.yml", "version: '3'\n", None),
        (
            ".github/workflows/ci.yml",
            "jobs: {}\n",
            Some(Dialect::GithubActions),
        ),
        ("action.yml", "name: a\n", Some(Dialect::GithubActions)),
        ("action.yaml", "name: a\n", Some(Dialect::GithubActions)),
        ("ci/workflow.yml", workflow, Some(Dialect::GithubActions)),
        ("tools/act/thing.yml", action, Some(Dialect::GithubActions)),
        (
            "tools/act/other.yml",
            described,
            Some(Dialect::GithubActions),
        ),
        (
            "ci/build.yml",
            "jobs:\n- job: a\n",
            Some(Dialect::AzurePipelines),
        ),
        ("ci/runs.yml", "runs: 3\n", Some(Dialect::AzurePipelines)),
        // An ARM template without `$schema` is told by its typed resources, a list or (in
        // language version 2.0) a mapping of symbolic names.
        (
            "infra/vm.json",
            "{\"resources\": {\"vm\": {\"type\": \"Microsoft.Compute/virtualMachines\"}}}\n",
            Some(Dialect::Arm),
        ),
        (
            "infra/list.json",
            "{\"resources\": [{\"type\": \"Microsoft.Compute/virtualMachines\"}]}\n",
            Some(Dialect::Arm),
        ),
        ("infra/empty.json", "{\"resources\": {}}\n", None),
        ("infra/none.json", "{\"resources\": []}\n", None),
        (
            "infra/untyped.json",
            "{\"resources\": [{\"type\": \"a/b\"}, {\"name\": \"x\"}]}\n",
            None,
        ),
        (
            ".gitlab-ci.yml",
            "build:\n  image: alpine:3.20\n",
            Some(Dialect::GitlabCi),
        ),
    ] {
        let analysis = Analysis::new(path, text.to_string());
        assert_eq!(analysis.dialect, dialect, "{path}");
    }
}

/// In an ARM template a `[…]` string is an expression (a dynamic reference), `[[…` a literal
/// that starts with `[`, and an unquoted value (a number) is no literal either.
#[test]
fn arm_expressions_are_dynamic() {
    let vm = |version: &str| {
        format!(
            "{{\"type\": \"Microsoft.Compute/virtualMachines\", \"properties\": {{\"storageProfile\": {{\"imageReference\": {{\"publisher\": \"Canonical\", \"offer\": \"o\", \"sku\": \"s\", \"version\": {version}}}}}}}}}"
        )
    };
    let text = format!(
        "{{\n  \"$schema\": \"https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#\",\n  \"resources\": [\n    {},\n    {},\n    {},\n    {}\n  ]\n}}\n",
        vm("\"[parameters('v')]\""),
        vm("\"1.0.0\""),
        vm("\"[[1.0.0\""),
        vm("2"),
    );
    use pin_core::Kind::{Dynamic, Vm};
    check_kinds(
        "infra/vm.json",
        &text,
        &[
            ("[parameters('v')]", Dynamic),
            ("Canonical:o:s:1.0.0", Vm),
            ("Canonical:o:s:[[1.0.0", Vm),
            ("2", Dynamic),
        ],
    );
}

/// `${VAR:-word}` takes the word when the ARG default is empty, unless the word is itself
/// built from a variable: a `FROM` that names a stage that way is no image.
#[test]
fn dockerfile_defaults_fill_empty_args() {
    let text = "ARG STAGE=\nARG OTHER=\nFROM alpine:3.20 AS build\nFROM ${STAGE:-build}\nFROM ${OTHER:-$STAGE}\n";
    check_kinds(
        "Dockerfile",
        text,
        &[
            ("alpine:3.20", pin_core::Kind::Container),
            ("${OTHER:-$STAGE}", pin_core::Kind::Dynamic),
        ],
    );
}

/// `FROM $NAME` names the image of the ARG's default, whatever the name's letters
/// (underscores too); a variable inside a longer name resolves through its default, so a
/// `FROM` that resolves to no stage is an image even when its pattern would match one.
#[test]
fn dockerfile_variables_resolve_by_their_whole_name() {
    let text = "ARG BASE_IMAGE=nginx:1.27\nARG _V2=b\nFROM $BASE_IMAGE\nFROM alpine:3.20 AS build-a\nFROM build-$_V2\nFROM ${BASE_IMAGE}\n";
    let analysis = Analysis::new("Dockerfile", text.to_string());
    let refs: Vec<(String, pin_core::Kind, Site)> = analysis
        .references
        .iter()
        .map(|r| (r.text.clone(), r.kind, r.site))
        .collect();
    use pin_core::Kind::{Container, Dynamic};
    let expected = [
        ("nginx:1.27", Container, Site::DockerfileArg),
        ("$BASE_IMAGE", Dynamic, Site::DockerfileFrom),
        ("alpine:3.20", Container, Site::DockerfileFrom),
        ("build-$_V2", Dynamic, Site::DockerfileFrom),
        ("${BASE_IMAGE}", Dynamic, Site::DockerfileFrom),
    ]
    .map(|(t, k, s)| (t.to_string(), k, s));
    assert_eq!(refs, expected);
}

/// A GitLab `image:` mapping with a YAML tag is no image definition; `image: {name: …}` is.
#[test]
fn gitlab_tagged_image_mappings_are_left_alone() {
    let text = "a:\n  image:\n    name: alpine:3.20\n  script: [x]\nb:\n  image: !custom\n    name: alpine:3.21\n  script: [x]\n";
    check_refs(
        ".gitlab-ci.yml",
        text,
        &[("alpine:3.20", Site::GitlabImage)],
    );
}

/// Only plain and quoted scalars are image values: a tagged scalar or a block scalar is
/// not read.
#[test]
fn tagged_and_block_scalars_are_no_images() {
    let text = "a:\n  image: !custom alpine:3.20\n  script: [x]\nb:\n  image: >-\n    alpine:3.21\n  script: [x]\nc:\n  image: 'alpine:3.22'\n  script: [x]\n";
    check_refs(
        ".gitlab-ci.yml",
        text,
        &[("alpine:3.22", Site::GitlabImage)],
    );
}

/// A value written as a Bicep multi-line string is read from between its quotes.
#[test]
fn bicep_multiline_string_values_are_read_between_their_quotes() {
    let text = "var pad = 'some text before the image'\nvar v = {\n  imageReference: {\n    publisher: 'Canonical'\n    offer: 'o'\n    sku: 's'\n    version: '''1.0.0'''\n  }\n}\n";
    let analysis = Analysis::new("infra/main.bicep", text.to_string());
    let found: Vec<(&str, &str)> = analysis
        .references
        .iter()
        .map(|r| (r.text.as_str(), &text[r.span.clone()]))
        .collect();
    assert_eq!(found, [("Canonical:o:s:1.0.0", "1.0.0")]);
}

/// Where Azure Pipelines values are images, and at which site.
#[test]
fn azure_pipelines_sites() {
    let cases: &[(&str, &[(&str, Site)])] = &[
        // `containers:` as an alias map (`extends.parameters.containers`) defines container
        // resources like the `resources.containers` list.
        (
            "extends:\n  template: t.yml\n  parameters:\n    containers:\n      build:\n        image: mcr.microsoft.com/x/y:1\n      test:\n        image: mcr.microsoft.com/x/z:2\n",
            &[
                ("mcr.microsoft.com/x/y:1", Site::Resource),
                ("mcr.microsoft.com/x/z:2", Site::Resource),
            ],
        ),
        (
            "resources:\n  containers:\n  - container: build\n    image: mcr.microsoft.com/x/y:1\n",
            &[("mcr.microsoft.com/x/y:1", Site::Resource)],
        ),
        // A Helix queue string without parentheses is an image only under a key that names
        // Helix queues (`helixQueues`, `helix_…`, a key with both `helix` and `queue`), not
        // under any key that mentions Helix.
        (
            "jobs:\n- job: a\n  steps:\n  - template: send.yml\n    parameters:\n      helixTarget: ubuntu.2204.amd64.open@mcr.microsoft.com/x/y:1\n      helixQueues: ubuntu.2204.amd64.open@mcr.microsoft.com/x/z:1\n      myHelixQueue: ubuntu.2204.amd64.open@mcr.microsoft.com/x/w:1\n",
            &[
                ("mcr.microsoft.com/x/z:1", Site::Helix),
                ("mcr.microsoft.com/x/w:1", Site::Helix),
            ],
        ),
        // A Helix queue string needs a queue name before its `@`.
        (
            "variables:\n  helixQueues: '@mcr.microsoft.com/x/y:1'\n  helix_targets: (Debian.12.Amd64.Open)Ubuntu.2204.Amd64.Open@mcr.microsoft.com/x/q:1\n",
            &[("mcr.microsoft.com/x/q:1", Site::Helix)],
        ),
        // Items under a conditional directive in a list are the list's items.
        (
            "resources:\n  containers:\n  - ${{ if eq(parameters.x, 'y') }}:\n    - container: a\n      image: mcr.microsoft.com/x/y:1\n  - ${{ else }}:\n    - container: a\n      image: mcr.microsoft.com/x/z:2\n",
            &[
                ("mcr.microsoft.com/x/y:1", Site::Resource),
                ("mcr.microsoft.com/x/z:2", Site::Resource),
            ],
        ),
        // `image:` is a pool image only in a pool (`pool`, a key ending in `Pool`) or next to
        // `os:`; a task input named `image` is not one.
        (
            "jobs:\n- job: a\n  pool:\n    name: agents\n    image: team-image\n  steps:\n  - task: Custom@1\n    inputs:\n      image: not-a-pool-image\n- job: b\n  buildPool:\n    image: other-image\n",
            &[
                ("team-image", Site::PoolImage),
                ("other-image", Site::PoolImage),
            ],
        ),
        // A template's own parameter defaults, list or map style: a `container:` in a
        // default is a parameter default, an `image:` in a default of a `…Pool` parameter a
        // pool image, a default of a Helix parameter a Helix queue string.
        (
            "parameters:\n- name: settings\n  type: object\n  default:\n    container: mcr.microsoft.com/x/d:1\n- name: buildPool\n  type: object\n  default:\n    image: team-image\n- name: helixQueues\n  default: ubuntu.2204.amd64.open@mcr.microsoft.com/x/h:1\n",
            &[
                ("mcr.microsoft.com/x/d:1", Site::ParameterDefault),
                ("team-image", Site::PoolImage),
                ("mcr.microsoft.com/x/h:1", Site::Helix),
            ],
        ),
        // A parameter default that lists container resources defines them, and one that
        // holds a 1ES pool (`image:` beside `os:`) names a pool image, whatever the
        // parameter is called.
        (
            "parameters:\n- name: extraContainers\n  type: object\n  default:\n  - container: build\n    image: mcr.microsoft.com/x/b:1\n- name: agents\n  type: object\n  default:\n    name: team-pool\n    image: team-image\n    os: linux\n",
            &[
                ("mcr.microsoft.com/x/b:1", Site::Resource),
                ("team-image", Site::PoolImage),
            ],
        ),
        (
            "parameters:\n  settings:\n    container: mcr.microsoft.com/x/e:1\n  buildPool:\n    image: other-image\n  helix_targets: ubuntu.2204.amd64.open@mcr.microsoft.com/x/i:1\n",
            &[
                ("mcr.microsoft.com/x/e:1", Site::ParameterDefault),
                ("other-image", Site::PoolImage),
                ("mcr.microsoft.com/x/i:1", Site::Helix),
            ],
        ),
        // A job's `services:` name container resources by alias; a value written as an
        // image (with `/`, `:` or `@`) is one, unless it only passes a value through.
        (
            "jobs:\n- job: a\n  services:\n    cache: redis\n    db: mcr.microsoft.com/x/pg:1\n    other: ${{ parameters.service }}\n",
            &[("mcr.microsoft.com/x/pg:1", Site::Service)],
        ),
        // A container resource item passed to a template: its `container:` is the alias,
        // no image, even when an expression builds it.
        (
            "jobs:\n- template: build.yml\n  parameters:\n    images:\n    - container: linux_${{ parameters.arch }}\n      image: mcr.microsoft.com/x/y:1\n",
            &[("mcr.microsoft.com/x/y:1", Site::Resource)],
        ),
    ];
    for (text, expected) in cases {
        check_refs("azure-pipelines.yml", text, expected);
    }
}

/// An Azure Pipelines job `container:` mapping: its `image:` is an image, unless a
/// `registry:` beside it completes a fragment (no `/`), which is then dynamic.
#[test]
fn azure_job_container_mappings() {
    let kinds = |text: &str| kinds_of(&Analysis::new("azure-pipelines.yml", text.to_string()));
    use pin_core::Kind::{Container, Dynamic};
    for (text, expected) in [
        (
            "jobs:\n- job: a\n  container:\n    image: ubuntu:22.04\n",
            ("ubuntu:22.04", Container),
        ),
        (
            "jobs:\n- job: a\n  container:\n    image: mcr.microsoft.com/x/y:1\n    registry: mcr\n",
            ("mcr.microsoft.com/x/y:1", Container),
        ),
        (
            "jobs:\n- job: a\n  container:\n    image: ubuntu-22.04\n    registry: mcr\n",
            ("ubuntu-22.04", Dynamic),
        ),
    ] {
        assert_eq!(kinds(text), [(expected.0.to_string(), expected.1)], "{text}");
    }
}

/// The infrastructure scanners read on past what is not a boundary and stop at what is.
#[test]
fn infra_scanners_find_the_ends_of_things() {
    for (path, text, expected) in [
        // `<<` that starts no heredoc is no heredoc: what follows is still read.
        (
            "infra/main.tf",
            "locals {\n  shifted = 1 << 2\n}\nresource \"azurerm_linux_virtual_machine\" \"vm\" {\n  source_image_reference {\n    publisher = \"Canonical\"\n    offer     = \"o\"\n    sku       = \"s\"\n    version   = \"1.0.0\"\n  }\n}\n",
            "Canonical:o:s:1.0.0",
        ),
        // A heredoc runs to the line that holds only its tag: what it holds is text, even
        // after a blank line.
        (
            "infra/main.tf",
            "locals {\n  doc = <<EOT\n\nsource_image_reference {\n  publisher = \"Fake\"\n  offer     = \"o\"\n  sku       = \"s\"\n}\nEOT\n}\nresource \"azurerm_linux_virtual_machine\" \"vm\" {\n  source_image_reference {\n    publisher = \"Canonical\"\n    offer     = \"o\"\n    sku       = \"s\"\n    version   = \"1.0.0\"\n  }\n}\n",
            "Canonical:o:s:1.0.0",
        ),
        // A heredoc whose tag is one letter starts on the next line, not on its own.
        (
            "infra/main.tf",
            "locals {\n  doc = <<X\nsource_image_reference {\n  publisher = \"Fake\"\n  offer     = \"o\"\n  sku       = \"s\"\n}\nX\n}\nresource \"azurerm_linux_virtual_machine\" \"vm\" {\n  source_image_reference {\n    publisher = \"Canonical\"\n    offer     = \"o\"\n    sku       = \"s\"\n    version   = \"1.0.0\"\n  }\n}\n",
            "Canonical:o:s:1.0.0",
        ),
        // A Terraform block ends at its closing brace: an attribute written after it belongs
        // to the enclosing block, not to the image.
        (
            "infra/main.tf",
            "resource \"azurerm_linux_virtual_machine\" \"vm\" {\n  source_image_reference {\n    publisher = \"Canonical\"\n    offer     = \"o\"\n    sku       = \"s\"\n  }\n  version = \"2.0\"\n}\n",
            "Canonical:o:s",
        ),
        // A Bicep multi-line string ends at its closing `'''`: what follows is still read.
        (
            "infra/main.bicep",
            "var doc = '''\ntext\n'''\nvar v = {\n  imageReference: {\n    publisher: 'Canonical'\n    offer: 'o'\n    sku: 's'\n    version: '1.0.0'\n  }\n}\n",
            "Canonical:o:s:1.0.0",
        ),
        // A `/* */` comment is skipped whole, over several lines too: a value commented out
        // is not read.
        (
            "infra/main.bicep",
            "var v = {\n  imageReference: {\n    publisher: 'Canonical'\n    offer: 'o'\n    sku: 's'\n    /*\n    version: '0.9.0'\n    */\n    version: '1.0.0'\n  }\n}\n",
            "Canonical:o:s:1.0.0",
        ),
        // A Bicep array written over several lines ends at its closing bracket: the entries
        // after it in the same object are still read (a pool image's `aliases`, then its name).
        (
            "infra/pool.bicep",
            "resource pool 'Microsoft.DevOpsInfrastructure/pools@2024-10-19' = {\n  properties: {\n    fabricProfile: {\n      images: [\n        {\n          aliases: [\n            'ubuntu'\n          ]\n          wellKnownImageName: 'ubuntu-22.04/latest'\n        }\n      ]\n    }\n  }\n}\n",
            "ubuntu-22.04/latest",
        ),
    ] {
        assert_eq!(texts(path, text), [expected], "{text}");
    }
}

/// A Kubernetes `List` holds its objects in a sequence: their containers are read too.
#[test]
fn kubernetes_lists_hold_objects() {
    let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  spec:\n    containers:\n    - name: a\n      image: nginx:1.27\n";
    check_refs(
        "deploy/pods.yaml",
        text,
        &[("nginx:1.27", Site::K8sContainer)],
    );
}

/// Only a document with both `apiVersion` and `kind` is a Kubernetes object: the
/// containers of another document in the same file are not read.
#[test]
fn kubernetes_objects_have_an_api_version_and_a_kind() {
    let text = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    image: nginx:1.27\n---\nkind: Settings\nspec:\n  containers:\n  - name: b\n    image: example.com/not/an:object\n---\napiVersion: v1\nspec:\n  containers:\n  - name: c\n    image: example.com/not/an:object\n";
    check_refs(
        "deploy/pods.yaml",
        text,
        &[("nginx:1.27", Site::K8sContainer)],
    );
}

/// Terraform values are read whole: escaped quotes inside strings, arrays, expressions
/// with brackets and commas, and comparisons.
#[test]
fn terraform_values_are_read_whole() {
    let text = "resource \"azurerm_linux_virtual_machine\" \"vm\" {\n  description = \"say \\\"hi\\\" first\"\n  zones = [\"1\", \"2\"]\n  source_image_reference {\n    publisher = \"Canonical\"\n    offer     = \"o\"\n    sku       = \"s\"\n    version   = coalesce(var.v, \"1.0.0\")\n  }\n}\nresource \"azurerm_linux_virtual_machine\" \"w\" {\n  source_image_reference {\n    publisher = \"Canonical\"\n    offer     = \"o\"\n    sku       = \"s\"\n    version   = var.latest == true\n  }\n}\n";
    check_kinds(
        "infra/main.tf",
        text,
        &[
            ("coalesce(var.v, \"1.0.0\")", pin_core::Kind::Dynamic),
            ("var.latest == true", pin_core::Kind::Dynamic),
        ],
    );
}

/// A configured dialect is taken as it is, except that a Kubernetes file that is a Helm
/// template is read as one; a dialect read as YAML is left to the YAML reader.
#[test]
fn configured_dialects_of_files_not_read_as_yaml() {
    use pin_core::dialect::detect_text_as;
    let manifest = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: nginx:1.27\n";
    let chart = "spec:\n  containers:\n  - image: {{ .Values.image }}\n";
    for (path, text, configured, expected) in [
        (
            "deploy/templates/pod.yaml",
            manifest,
            Some(Dialect::Kubernetes),
            None,
        ),
        ("deploy/pod.yaml", chart, Some(Dialect::Kubernetes), None),
        (
            "deploy/templates/pod.yaml",
            chart,
            Some(Dialect::Kubernetes),
            Some(Dialect::HelmTemplate),
        ),
        (
            "images/base",
            "FROM alpine:3.20\n",
            Some(Dialect::Dockerfile),
            Some(Dialect::Dockerfile),
        ),
        (
            "deploy/templates/pod.yaml",
            chart,
            Some(Dialect::Compose),
            None,
        ),
        (
            "deploy/templates/pod.yaml",
            chart,
            None,
            Some(Dialect::HelmTemplate),
        ),
    ] {
        assert_eq!(
            detect_text_as(path, text, configured),
            expected,
            "{path} {configured:?}"
        );
    }
}

/// A Compose service that merges itself in (`<<:` naming its own anchor) is read without
/// looping: merge chains are followed to a bounded depth.
#[test]
fn compose_merge_cycles_end() {
    let text = "services:\n  web: &web\n    <<: *web\n    environment:\n      A: b\n  db:\n    image: postgres:17\n";
    check_refs("compose.yaml", text, &[("postgres:17", Site::ComposeImage)]);
}

/// A GitHub job's image that is exactly one `${{ matrix.… }}` expression can be each value
/// the matrix gives that path; a longer value, or a path that only ends in `matrix`, is not
/// read from the matrix.
#[test]
fn github_matrix_values_are_read_for_one_matrix_expression() {
    let job = |image: &str| {
        format!("on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    strategy:\n      matrix:\n        image: ['alpine:3.20']\n    services:\n      db:\n        image: {image}\n")
    };
    let from_matrix = |image: &str| -> Vec<String> {
        refs(".github/workflows/ci.yml", &job(image))
            .into_iter()
            .filter(|(_, site)| *site == Site::GhaService)
            .map(|(t, _)| t)
            .filter(|t| !t.contains("${{"))
            .collect()
    };
    assert_eq!(from_matrix("${{ matrix.image }}"), ["alpine:3.20"]);
    for image in [
        "${{ inputs.submatrix.image }}",
        "${{ steps.x.matrix.image }}",
        "${{ matrix.image }}-{{ slim }}",
    ] {
        assert!(
            from_matrix(image).is_empty(),
            "{image}: {:?}",
            from_matrix(image)
        );
    }
}

/// A Bicep object entry that is not `key: value` (a spread, a key without its colon) is
/// skipped to its end and no further: the object still closes at its brace, so what follows
/// it is not read into it.
#[test]
fn bicep_entries_that_are_not_key_value_are_skipped_alone() {
    for last in ["...extra", "tags 'x'"] {
        let text = format!("resource vm 'Microsoft.Compute/virtualMachines@2024-07-01' = {{\n  properties: {{\n    storageProfile: {{\n      imageReference: {{ publisher: 'Canonical', offer: 'o', sku: 's', {last} }}\n      version: '2.0'\n    }}\n  }}\n}}\n");
        assert_eq!(
            texts("infra/main.bicep", &text),
            ["Canonical:o:s"],
            "{last}"
        );
    }
}

/// GitLab's reserved top-level keys are no jobs: a `workflow:` mapping's
/// `rules[].variables` are not read as job variables (an image written there is not
/// reported), while a job's own `rules[].variables` and the global `variables:` are.
#[test]
fn gitlab_workflow_rules_are_no_job() {
    let text = "workflow:\n  rules:\n  - if: $CI_COMMIT_TAG\n    variables:\n      WORKFLOW_IMAGE: registry.example.com/w/flow:1\nvariables:\n  GLOBAL_IMAGE: registry.example.com/g/lobal:2\nbuild:\n  image: alpine:3.20\n  rules:\n  - if: $CI_COMMIT_TAG\n    variables:\n      JOB_IMAGE: registry.example.com/j/ob:3\n  script: [x]\n";
    check_refs(
        ".gitlab-ci.yml",
        text,
        &[
            ("registry.example.com/g/lobal:2", Site::Variable),
            ("alpine:3.20", Site::GitlabImage),
            ("registry.example.com/j/ob:3", Site::Variable),
        ],
    );
}

/// A GitHub step's image: `uses: docker://…` (after the scheme), a `with: image:` input,
/// and an `env:` value that starts with a registry host; in a workflow's jobs and in a
/// composite action's steps.
#[test]
fn github_steps_name_images() {
    let workflow = "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n    - uses: docker://alpine:3.20\n    - uses: actions/checkout@v4\n    - uses: ./build\n      with:\n        image: ghcr.io/o/tool:1\n      env:\n        BASE: ghcr.io/o/base:2\n        NAME: plain\n";
    check_refs(
        ".github/workflows/ci.yml",
        workflow,
        &[
            ("ubuntu-24.04", Site::GhaRunsOn),
            ("alpine:3.20", Site::GhaDockerUses),
            ("ghcr.io/o/tool:1", Site::GhaStepInput),
            ("ghcr.io/o/base:2", Site::Variable),
        ],
    );
    let action = "name: a\nruns:\n  using: composite\n  steps:\n  - uses: docker://alpine:3.21\n";
    check_refs(
        "action.yml",
        action,
        &[("alpine:3.21", Site::GhaDockerUses)],
    );
}

/// An Azure job container that only passes a value through (`${{ parameters.image }}`,
/// `$(image)`) names no image here; a container built by a longer expression is a dynamic
/// image. Variables written as a list are read as those written as a mapping.
#[test]
fn azure_pass_through_containers_and_listed_variables() {
    let text = "variables:\n- name: img\n  value: mcr.microsoft.com/x/y:2\n- group: secrets\njobs:\n- job: a\n  container: ${{ parameters.image }}\n- job: b\n  container: $(image)\n- job: c\n  container: ${{ format('mcr.microsoft.com/x/{0}', parameters.tag) }}\n";
    check_refs(
        "azure-pipelines.yml",
        text,
        &[
            ("mcr.microsoft.com/x/y:2", Site::Variable),
            (
                "${{ format('mcr.microsoft.com/x/{0}', parameters.tag) }}",
                Site::JobContainer,
            ),
        ],
    );
}

/// `${VAR:+word}` gives the word when the ARG default is not empty and nothing when it is,
/// and `${VAR:-word}` gives the default when there is one: a `FROM` built that way that
/// names a stage is no image.
#[test]
fn dockerfile_alternate_values_need_a_value() {
    let text = "ARG SUFFIX=\nARG SET=1\nARG STAGE=base\nFROM alpine:3.20 AS base\nFROM alpine:3.21 AS build-x\nFROM base${SUFFIX:+-y}\nFROM build${SET:+-x}\nFROM ${STAGE:-other}\n";
    assert_eq!(texts("Dockerfile", text), ["alpine:3.20", "alpine:3.21"]);
}

/// A reference is placed at its text: inside quotes, without the blanks around it.
#[test]
fn references_are_placed_at_their_text() {
    for (path, text) in [
        (
            "azure-pipelines.yml",
            "jobs:\n- job: a\n  container: ' mcr.microsoft.com/x/a:1 '\n  pool:\n    vmImage: \"ubuntu-24.04\"\n",
        ),
        (
            ".github/workflows/ci.yml",
            "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    container:   alpine:3.20\n    steps:\n    - uses: 'docker://alpine:3.21'\n",
        ),
        ("compose.yaml", "services:\n  web:\n    image: \"nginx:1.27 \"\n"),
        (
            "azure-pipelines.yml",
            "variables:\n  helixQueues: '(Debian.12.Amd64)Ubuntu.2204.Amd64.Open@mcr.microsoft.com/x/y:1'\n",
        ),
    ] {
        let analysis = Analysis::new(path, text.to_string());
        assert!(!analysis.references.is_empty(), "{path}");
        for r in &analysis.references {
            assert_eq!(&text[r.span.clone()], r.text, "{path}");
        }
    }
}

/// A script's text is the shell's: a Helix queue string written in it is not read, while
/// one in a variable is.
#[test]
fn azure_scripts_hold_no_helix_queues() {
    let queue = "(Debian.12.Amd64)Ubuntu.2204.Amd64.Open@mcr.microsoft.com/dotnet-buildtools/prereqs:debian-12";
    let text = format!("jobs:\n- job: a\n  steps:\n  - script: {queue}\n  - bash: {queue}\n    env:\n      QUEUE: {queue}\n");
    check_refs(
        "azure-pipelines.yml",
        &text,
        &[(
            "mcr.microsoft.com/dotnet-buildtools/prereqs:debian-12",
            Site::Helix,
        )],
    );
}

/// An unbraced `$NAME` takes the whole name, underscores too: a `FROM` that names a stage
/// through it is no image.
#[test]
fn dockerfile_unbraced_variables_name_stages() {
    let text = "ARG STAGE_NAME=base\nFROM alpine:3.20 AS base\nFROM $STAGE_NAME\n";
    assert_eq!(texts("Dockerfile", text), ["alpine:3.20"]);
}

/// A gallery image id that stops at `images` names no image (and does not break the
/// reading).
#[test]
fn gallery_ids_without_an_image_name_name_nothing() {
    let text = "var v = {\n  imageReference: {\n    id: '/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images'\n  }\n}\n";
    assert!(texts("infra/main.bicep", text).is_empty());
}

/// A GitLab CI file is told by its name ending in `.gitlab-ci.yml` (not only the root
/// `.gitlab-ci.yml`) or by its place under `.gitlab/ci/`, whatever it holds.
#[test]
fn gitlab_files_are_told_by_name_or_folder() {
    let job = "build:\n  image: alpine:3.20\n";
    for path in [
        ".gitlab-ci.yml",
        "ci/deploy.gitlab-ci.yml",
        ".gitlab/ci/build.yml",
    ] {
        let analysis = Analysis::new(path, job.to_string());
        assert_eq!(analysis.dialect, Some(Dialect::GitlabCi), "{path}");
    }
    let analysis = Analysis::new("ci/build.yml", job.to_string());
    assert_eq!(analysis.dialect, Some(Dialect::AzurePipelines));
}

/// A file configured as Kubernetes is read as a manifest, unless it is named like a
/// kustomization, which is then read as one.
#[test]
fn configured_kubernetes_files_named_kustomization_are_kustomizations() {
    let kustomization = "images:\n- name: nginx\n  newTag: '1.27'\n";
    let manifest = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: nginx:1.27\n";
    for (path, text, dialect, site) in [
        (
            "deploy/kustomization.yaml",
            kustomization,
            Dialect::Kustomize,
            Site::KustomizeImage,
        ),
        (
            "deploy/pod.yaml",
            manifest,
            Dialect::Kubernetes,
            Site::K8sContainer,
        ),
    ] {
        let analysis = Analysis::new_as(path, text.to_string(), Some(Dialect::Kubernetes));
        assert_eq!(analysis.dialect, Some(dialect), "{path}");
        let sites: Vec<Site> = analysis.references.iter().map(|r| r.site).collect();
        assert_eq!(sites, [site], "{path}");
    }
}

/// A Helm chart template is read by text: its `image:` lines are references, an action
/// making one dynamic.
#[test]
fn helm_templates_are_read_by_text() {
    let text = "spec:\n  containers:\n  - name: app\n    image: \"{{ .Values.image }}\"\n  - name: proxy\n    image: nginx:1.27\n";
    let analysis = Analysis::new("chart/templates/deploy.yaml", text.to_string());
    assert_eq!(analysis.dialect, Some(Dialect::HelmTemplate));
    assert_eq!(
        kinds_of(&analysis),
        [
            ("{{ .Values.image }}".to_string(), pin_core::Kind::Dynamic),
            ("nginx:1.27".to_string(), pin_core::Kind::Container),
        ]
    );
}

/// A GitLab variable written as a mapping (`value:` with a `description:`) is read at its
/// `value:`.
#[test]
fn gitlab_variables_with_descriptions_are_read_at_their_value() {
    let text = "variables:\n  BASE:\n    value: registry.example.com/b/ase:1\n    description: the base image\nbuild:\n  image: alpine:3.20\n  script: [x]\n";
    check_refs(
        ".gitlab-ci.yml",
        text,
        &[
            ("registry.example.com/b/ase:1", Site::Variable),
            ("alpine:3.20", Site::GitlabImage),
        ],
    );
}

/// A Helm template value loses one pair of outer quotes, not a lone quote at one end; a
/// value that only closes an action (`image: }}`) is read like any other, without failing.
#[test]
fn helm_values_are_read_as_written() {
    let text = "spec:\n  containers:\n  - image: {{ .Values.registry\n     }}\n  - image: }}\n  - image: \"nginx:1.27\n  - image: nginx:1.27'\n";
    let analysis = Analysis::new("chart/templates/pod.yaml", text.to_string());
    let found: Vec<&str> = analysis
        .references
        .iter()
        .map(|r| &text[r.span.clone()])
        .collect();
    assert_eq!(
        found,
        ["{{ .Values.registry", "}}", "\"nginx:1.27", "nginx:1.27'"]
    );
}

/// A Compose service takes the keys it does not write from the mappings it merges in
/// (`<<:` an alias or a list of aliases, the earlier ones winning), through merges of
/// merges: the image is reported where it is written.
#[test]
fn compose_services_take_their_image_from_merged_mappings() {
    let text = "x-base: &base\n  image: nginx:1.27\nx-other: &other\n  image: redis:7\nx-db: &db\n  <<: *other\nservices:\n  web:\n    <<: *base\n  both:\n    <<: [*db, *base]\n";
    check_refs(
        "compose.yaml",
        text,
        &[
            ("nginx:1.27", Site::ComposeImage),
            ("redis:7", Site::ComposeImage),
        ],
    );
    let both = "x-base: &base\n  image: nginx:1.27\nx-other: &other\n  image: redis:7\nservices:\n  both:\n    <<: [*other, *base]\n";
    check_refs("compose.yaml", both, &[("redis:7", Site::ComposeImage)]);
}

/// Long merge chains are followed: a service 17 merges away from its image still has it.
#[test]
fn compose_long_merge_chains_are_followed() {
    let mut text = String::from("x-l17: &l17\n  image: nginx:1.27\n");
    for level in (1..17).rev() {
        text.push_str(&format!("x-l{level}: &l{level}\n  <<: *l{}\n", level + 1));
    }
    text.push_str("services:\n  web:\n    <<: *l1\n");
    check_refs("compose.yaml", &text, &[("nginx:1.27", Site::ComposeImage)]);
}

/// A dev container's literal `image` is a container reference; a blank one is none.
#[test]
fn devcontainer_images_are_read_unless_blank() {
    check_refs(
        ".devcontainer/devcontainer.json",
        "{\n  // base\n  \"image\": \"mcr.microsoft.com/devcontainers/base:ubuntu\"\n}\n",
        &[(
            "mcr.microsoft.com/devcontainers/base:ubuntu",
            Site::DevcontainerImage,
        )],
    );
    assert!(texts(".devcontainer.json", "{ \"image\": \"  \" }\n").is_empty());
}

/// An object built by a Terraform `for` expression (`k => { … }`) is read like any other
/// object: an image id in it is found.
#[test]
fn terraform_for_expressions_build_objects() {
    let text = "locals {\n  vms = { for name in var.names : name => { source_image_id = \"/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0\" } }\n}\n";
    assert_eq!(
        texts("infra/main.tf", text),
        ["/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/g/images/i/versions/1.0.0"]
    );
}

/// A GitHub job `container:` string that only passes a matrix value through is not itself
/// reported (the matrix values are); a service `image:` written the same way is, as a
/// dynamic image, beside the values.
#[test]
fn github_pass_through_container_strings() {
    let text = "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    strategy:\n      matrix:\n        image: ['alpine:3.20']\n    container: ${{ matrix.image }}\n    services:\n      db:\n        image: ${{ matrix.image }}\n";
    check_refs(
        ".github/workflows/ci.yml",
        text,
        &[
            ("ubuntu-24.04", Site::GhaRunsOn),
            ("alpine:3.20", Site::GhaContainer),
            ("${{ matrix.image }}", Site::GhaService),
        ],
    );
}

/// `runs-on` labels are hosted runner images only in a list without `self-hosted` or an
/// expression.
#[test]
fn github_self_hosted_runner_lists_name_no_image() {
    for (runs_on, expected) in [
        ("[ubuntu-24.04, linux]", &["ubuntu-24.04"][..]),
        ("[self-hosted, ubuntu-24.04]", &[][..]),
        ("[ubuntu-24.04, '${{ inputs.label }}']", &[][..]),
    ] {
        let text = format!("on: push\njobs:\n  a:\n    runs-on: {runs_on}\n");
        assert_eq!(
            texts(".github/workflows/ci.yml", &text),
            expected,
            "{runs_on}"
        );
    }
}

/// A Managed DevOps Pools image named by an expression is dynamic; an empty name names
/// nothing.
#[test]
fn pool_image_names_that_are_no_literal() {
    let text = "resource pool 'Microsoft.DevOpsInfrastructure/pools@2024-10-19' = {\n  properties: {\n    fabricProfile: {\n      images: [\n        { wellKnownImageName: imageName }\n        { wellKnownImageName: '' }\n      ]\n    }\n  }\n}\n";
    check_kinds(
        "infra/pool.bicep",
        text,
        &[("imageName", pin_core::Kind::Dynamic)],
    );
}
