import { join } from "node:path";
import { repoRoot } from "@syncstack/local-stack";
import { type ServiceName, serviceNames } from "@syncstack/shared";
import { serviceNodeOptions } from "@syncstack/shared/provision";
import { imageRepository, requiredApis } from "./terraform/project.ts";
import { renderInfrastructure, resourceAddresses } from "./terraform/render.ts";

export interface DeployOptions {
  projectId: string;
  region: string;
  tag: string;
  /** Let terraform apply without asking. */
  autoApprove: boolean;
  /** The Firebase web API key the console signs in with; without it the console is not deployed. */
  firebaseApiKey?: string;
}

/** What gets an image: the four services and the ops console. */
export type ImageName = ServiceName | "console";
export const imageNames: readonly ImageName[] = [...serviceNames, "console"];

/** One step of a deploy: a command and why it runs. */
export interface DeployStep {
  why: string;
  command: string;
  args: string[];
}

/** Everything a deploy does, computed without credentials or network. */
export interface DeployPlan {
  workDir: string;
  images: Record<ImageName, string>;
  resources: string[];
  tfvars: Record<string, unknown>;
  steps: DeployStep[];
}

/** Cloud Run runs amd64 images, whatever machine builds them. */
const platform = "linux/amd64";

/**
 * The deploy of one project: enable the APIs and create the image repository (a targeted
 * apply), build and push each service's image, then apply the whole rendered configuration.
 * Terraform state stays in the work directory, `.syncstack/cloud/<project>/`.
 */
export function deployPlan(options: DeployOptions): DeployPlan {
  const { projectId, region, tag } = options;
  const workDir = join(repoRoot, ".syncstack", "cloud", projectId);
  const registry = `${region}-docker.pkg.dev`;
  const images = Object.fromEntries(
    imageNames.map((name) => [name, `${registry}/${projectId}/${imageRepository}/${name}:${tag}`]),
  ) as Record<ImageName, string>;
  const terraform = (why: string, ...args: string[]): DeployStep => ({
    why,
    command: "terraform",
    args: [`-chdir=${workDir}`, ...args],
  });
  const bootstrap = [
    ...requiredApis.map((api) => `-target=google_project_service.${api.split(".")[0]}`),
    "-target=google_artifact_registry_repository.images",
  ];
  const approve = options.autoApprove ? ["-auto-approve"] : [];
  return {
    workDir,
    images,
    resources: resourceAddresses(renderInfrastructure()),
    tfvars: {
      project_id: projectId,
      region,
      images,
      ...(options.firebaseApiKey ? { firebase_api_key: options.firebaseApiKey } : {}),
    },
    steps: [
      terraform("install the Google provider", "init", "-input=false"),
      terraform(
        "enable the APIs, create the image repository",
        "apply",
        "-input=false",
        "-auto-approve",
        ...bootstrap,
      ),
      {
        why: "let docker push to Artifact Registry",
        command: "gcloud",
        args: ["auth", "configure-docker", registry, "--quiet"],
      },
      ...imageNames.flatMap((service): DeployStep[] => [
        {
          why: `build the ${service} image`,
          command: "docker",
          args: [
            "build",
            "--platform",
            platform,
            "--target",
            "service",
            "--build-arg",
            `SERVICE=${service}`,
            "--build-arg",
            `NODE_OPTIONS=${service === "console" ? "" : serviceNodeOptions[service]}`,
            "--tag",
            images[service],
            repoRoot,
          ],
        },
        { why: `push the ${service} image`, command: "docker", args: ["push", images[service]] },
      ]),
      terraform("create or update everything else", "apply", "-input=false", ...approve),
    ],
  };
}
