// A small client written against the types openapi-typescript generates from the API document:
// CI type-checks it with `tsc --strict`, so a document that generators mistype (a union without
// its variants, a body typed `object`, a lost schema) fails here before an SPA team meets it.
import type { components, operations, paths } from "./generated/kenshu";

type Schemas = components["schemas"];

/** An audience condition as a sentence: every variant is reached through its tag. */
export function describeCondition(c: Schemas["Condition"]): string {
    switch (c.kind) {
        case "years_after_hire":
            return `採用後${c.years}年`;
        case "grade":
            return `職級: ${c.grade}`;
        default:
            return c.kind;
    }
}

/** A channel's address, by kind. */
export function channelAddress(s: Schemas["ChannelSettings"]): string {
    switch (s.kind) {
        case "webhook":
            return s.url;
        case "portal":
            return s.url;
        case "mail":
            return s.from;
    }
}

/** What a notice says, typed field by field. */
export function noticeLine(n: Schemas["NoticeDto"]): string {
    return `${n.body.title}: ${n.body.message ?? ""}`;
}

/** The query of the owed-reports list, and the files it downloads as. */
export const overdueAsExcel: NonNullable<operations["list_reports"]["parameters"]["query"]> = {
    fiscal_year: 2023,
    overdue: true,
    format: "xlsx",
    encoding: "shift_jis",
};

type ResultsContent = operations["year_results"]["responses"][200]["content"];
export function resultsTotal(r: ResultsContent["application/json"]): number {
    return r.total.selected + r.by_department.length;
}
export const resultsCsv: ResultsContent["text/csv"] = "区分,No,研修名\r\n";

/** Every error is a problem with a stable code. */
export function problemCode(p: Schemas["Problem"]): string {
    return p.errors?.map((e) => `${e.field}: ${e.reason}`).join("; ") ?? p.code;
}

type CreateCourse = paths["/api/v1/courses"]["post"];
export const course: CreateCourse["requestBody"] extends { content: { "application/json": infer B } } ? B : never = {
    fiscal_year: 2023,
    category: "hierarchical",
    number: 6,
    title: "採用後２次研修",
    rules: [{ route: "designation", conditions: [{ kind: "years_after_hire", years: 3 }] }],
    delivery: "classroom",
};
