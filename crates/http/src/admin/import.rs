//! `POST /admin/v1/import`: JSON Lines of principals, API keys and access
//! keys (DESIGN.md §10), fed to the core's importer as the body arrives, so
//! that a large file costs the memory of a batch, not of the file.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use http_body_util::BodyExt as _;
use tollgate_core::admin::ImportOptions;
use utoipa::IntoParams;

use super::caller::Caller;
use super::page::QueryParams;
use super::plane;
use super::problem::Problem;
use super::views::ImportReportView;
use crate::AppState;
use crate::http_util::media_type;

/// The media type of JSON Lines bodies.
pub(crate) const NDJSON: &str = "application/x-ndjson";

/// Largest import body: generous (a million principals with bcrypt hashes
/// are about 200 MB), but bounded.
pub const MAX_IMPORT_BYTES: u64 = 1024 * 1024 * 1024;

/// How long the body may pause between two pieces. The importer writes a
/// batch between reads, so this is not a limit on the whole import.
const BODY_PAUSE_LIMIT: Duration = Duration::from_secs(30);

/// `POST /admin/v1/import`'s query.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ImportParams {
    /// Report what the import would do, and write nothing.
    #[param(rename = "dryRun")]
    dry_run: Option<bool>,
}

#[utoipa::path(
    post, path = "/admin/v1/import", operation_id = "importRecords", tag = "import",
    params(ImportParams),
    request_body(
        content = String, content_type = "application/x-ndjson",
        description = "JSON Lines, one record a line: {\"type\":\"principal\",…}, {\"type\":\"apikey\",…}, \
                       {\"type\":\"accesskey\",…} (README, Import). At most 1 GiB.",
    ),
    responses(
        (status = 200, description = "Imported (or, with dryRun, decided): counts per kind, and each line \
                                      that failed. Good lines are imported whatever the others hold.",
         body = ImportReportView),
        (status = 400, description = "Invalid query, or the body broke off", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is larger than 1 GiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not application/x-ndjson", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub(crate) async fn import_records(
    State(state): State<AppState>,
    Caller(context): Caller,
    params: QueryParams,
    request: Request,
) -> Result<axum::Json<ImportReportView>, Problem> {
    let admin = &plane(&state)?.service;
    let dry_run = match params.get("dryRun") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(Problem::invalid("/dryRun", "dryRun is true or false.")),
    };
    // Absent, sent twice, or another type: all 415.
    if media_type(request.headers()).as_deref() != Some(NDJSON) {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("The body must be sent as {NDJSON}."),
        ));
    }
    let too_large = || {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("The body is larger than {MAX_IMPORT_BYTES} bytes."),
        )
    };
    let mut body = request.into_body();
    if axum::body::HttpBody::size_hint(&body).lower() > MAX_IMPORT_BYTES {
        return Err(too_large());
    }
    let mut importer = admin.importer(ImportOptions { dry_run });
    let cut_off = loop {
        let frame = match tokio::time::timeout(BODY_PAUSE_LIMIT, body.frame()).await {
            Ok(Some(Ok(frame))) => frame,
            Ok(None) => break None,
            Ok(Some(Err(_))) | Err(_) => {
                break Some(Problem::invalid(
                    "",
                    "The body did not arrive whole; the lines before were imported (see the audit trail).",
                ));
            }
        };
        let Ok(data) = frame.into_data() else { continue };
        if importer.bytes_read() + data.len() as u64 > MAX_IMPORT_BYTES {
            break Some(Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "The body is larger than {MAX_IMPORT_BYTES} bytes; the lines before were imported \
                     (see the audit trail)."
                ),
            ));
        }
        importer.feed(&data).await?;
    };
    // Whatever was written is accounted for in the audit trail, also when
    // the body was cut off.
    let report = importer.finish(&context, "admin API").await?;
    match cut_off {
        Some(problem) => Err(problem),
        None => Ok(axum::Json(ImportReportView::from(&report))),
    }
}
