/** UWS 1.1 documents: a job, the job list, a job's parameters and results. */
import type { Job } from "./uwsJobs.js";
import { attrs, element } from "./xml.js";

const XML = '<?xml version="1.0" encoding="UTF-8"?>\n';
const NS =
  'xmlns:uws="http://www.ivoa.net/xml/UWS/v1.0" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';

/** An element, or xsi:nil when it has no value. */
const maybe = (tag: string, v: string | number | null) =>
  v === null || v === "" ? `<${tag} xsi:nil="true"/>` : element(tag, v);

export function parametersElement(job: Job): string {
  const ps = Object.entries(job.parameters).map(([k, v]) => element("uws:parameter", v, { id: k.toLowerCase() }));
  return `<uws:parameters>${ps.join("")}</uws:parameters>`;
}

/** `jobUrl`: the job's URL, e.g. http://host/tap/async/ID. */
export function resultsElement(job: Job, jobUrl: string): string {
  if (job.phase !== "COMPLETED" || job.result === null) return "<uws:results/>";
  const r = job.result;
  return `<uws:results>${element("uws:result", "", { id: "result", "xlink:type": "simple", "xlink:href": `${jobUrl}/results/result`, size: r.bytes, "mime-type": r.contentType })}</uws:results>`;
}

export function jobDocument(job: Job, jobUrl: string): string {
  const error =
    job.phase === "ERROR" && job.error !== null
      ? `<uws:errorSummary type="fatal" hasDetail="true">${element("uws:message", job.error)}</uws:errorSummary>`
      : "";
  const parts = [
    element("uws:jobId", job.id),
    job.runId === null ? "" : element("uws:runId", job.runId),
    maybe("uws:ownerId", job.ownerId),
    element("uws:phase", job.phase),
    '<uws:quote xsi:nil="true"/>',
    element("uws:creationTime", job.creationTime),
    maybe("uws:startTime", job.startTime),
    maybe("uws:endTime", job.endTime),
    element("uws:executionDuration", String(job.executionDuration)),
    element("uws:destruction", job.destruction),
    parametersElement(job),
    resultsElement(job, jobUrl),
    error,
  ];
  return `${XML}<uws:job ${NS} version="1.1">\n${parts.filter((p) => p !== "").join("\n")}\n</uws:job>\n`;
}

export function parametersDocument(job: Job): string {
  return `${XML}${parametersElement(job).replace("<uws:parameters>", `<uws:parameters ${NS}>`)}\n`;
}

export function resultsDocument(job: Job, jobUrl: string): string {
  const r = resultsElement(job, jobUrl);
  return `${XML}${r.replace(/^<uws:results/, `<uws:results ${NS}`)}\n`;
}

/** `base`: the job list's URL. */
export function jobListDocument(jobs: Job[], base: string): string {
  const refs = jobs.map(
    (j) =>
      `<uws:jobref${attrs({ id: j.id, "xlink:type": "simple", "xlink:href": `${base}/${j.id}` })}>${element("uws:phase", j.phase)}${j.runId === null ? "" : element("uws:runId", j.runId)}${maybe("uws:ownerId", j.ownerId)}${element("uws:creationTime", j.creationTime)}</uws:jobref>`,
  );
  return `${XML}<uws:jobs ${NS} version="1.1">\n${refs.join("\n")}\n</uws:jobs>\n`;
}
