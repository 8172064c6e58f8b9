//! `Status` and `Error`: what every fallible call returns.

use std::ffi::CStr;
use std::fmt;

use crate::sys;

/// Why a Recur operation failed: the C API's `recur_status`.
///
/// The library only ever appends statuses (docs/versioning.md), so a newer
/// library may return a code this crate does not know: that is
/// [`Status::Unknown`], holding the raw code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// `RECUR_OK`: success. Never the status of an [`Error`].
    Ok,
    /// `RECUR_ERROR_INVALID_ARGUMENT`: a NULL pointer, a zero size, a bad option or an index out of range.
    InvalidArgument,
    /// `RECUR_ERROR_PARSE`: the text is not valid JSON.
    Parse,
    /// `RECUR_ERROR_MODEL`: valid JSON, but not a valid model or trainer configuration.
    Model,
    /// `RECUR_ERROR_IO`: a file could not be read or written.
    Io,
    /// `RECUR_ERROR_SHAPE`: sizes do not fit the model.
    Shape,
    /// `RECUR_ERROR_NUMERIC`: NaN or infinity where a finite number is needed.
    Numeric,
    /// `RECUR_ERROR_OUT_OF_MEMORY`: memory could not be allocated.
    OutOfMemory,
    /// `RECUR_ERROR_INTERNAL`: a bug in Recur; please report it.
    Internal,
    /// A status this crate does not know (from a newer library).
    Unknown(i32),
}

impl Status {
    /// The status for a raw `recur_status` code.
    pub fn from_raw(code: sys::recur_status) -> Status {
        match code {
            sys::RECUR_OK => Status::Ok,
            sys::RECUR_ERROR_INVALID_ARGUMENT => Status::InvalidArgument,
            sys::RECUR_ERROR_PARSE => Status::Parse,
            sys::RECUR_ERROR_MODEL => Status::Model,
            sys::RECUR_ERROR_IO => Status::Io,
            sys::RECUR_ERROR_SHAPE => Status::Shape,
            sys::RECUR_ERROR_NUMERIC => Status::Numeric,
            sys::RECUR_ERROR_OUT_OF_MEMORY => Status::OutOfMemory,
            sys::RECUR_ERROR_INTERNAL => Status::Internal,
            other => Status::Unknown(other),
        }
    }

    /// The raw `recur_status` code.
    pub fn code(self) -> sys::recur_status {
        match self {
            Status::Ok => sys::RECUR_OK,
            Status::InvalidArgument => sys::RECUR_ERROR_INVALID_ARGUMENT,
            Status::Parse => sys::RECUR_ERROR_PARSE,
            Status::Model => sys::RECUR_ERROR_MODEL,
            Status::Io => sys::RECUR_ERROR_IO,
            Status::Shape => sys::RECUR_ERROR_SHAPE,
            Status::Numeric => sys::RECUR_ERROR_NUMERIC,
            Status::OutOfMemory => sys::RECUR_ERROR_OUT_OF_MEMORY,
            Status::Internal => sys::RECUR_ERROR_INTERNAL,
            Status::Unknown(code) => code,
        }
    }

    /// The library's short description ("sizes do not fit the model").
    pub fn description(self) -> &'static str {
        // SAFETY: recur_status_string accepts any value and returns a static,
        // never-NULL, NUL-terminated string.
        unsafe { static_str(sys::recur_status_string(self.code())) }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

/// A failed call: the library's status and message, or a size this crate
/// refused before calling (then the message names the argument).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// Never [`Status::Ok`].
    pub status: Status,
    /// The library's `recur_last_error()` for the failed call (copied at
    /// once: it is thread-local and the next failure replaces it), or this
    /// crate's own message, which starts with the method's name.
    pub message: String,
}

impl Error {
    pub(crate) fn new(status: Status, message: impl Into<String>) -> Error {
        Error {
            status,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}, status {})", self.message, self.status, self.status.code())
    }
}

impl std::error::Error for Error {}

/// `Result` with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Ok for `RECUR_OK`; otherwise the Error with the library's message, read
/// right away on this thread (it is thread-local, valid until the next failure).
pub(crate) fn check(code: sys::recur_status) -> Result<()> {
    if code == sys::RECUR_OK {
        return Ok(());
    }
    let status = Status::from_raw(code);
    // SAFETY: recur_last_error never returns NULL, and the string stays
    // valid until this thread's next failing call; it is copied here.
    let message = unsafe { CStr::from_ptr(sys::recur_last_error()) }
        .to_string_lossy()
        .into_owned();
    let message = if message.is_empty() {
        status.description().to_owned()
    } else {
        message
    };
    Err(Error::new(status, message))
}

/// A static string of the library as `&'static str`.
///
/// # Safety
/// `text` must be a non-NULL, NUL-terminated string in static storage.
pub(crate) unsafe fn static_str(text: *const std::os::raw::c_char) -> &'static str {
    // The library's static strings are ASCII; a non-UTF-8 one would be a bug there.
    CStr::from_ptr(text).to_str().unwrap_or("(not UTF-8)")
}

/// The product of named sizes, and how it was made ("batch 2 x input_size 3
/// = 6") for messages; Shape when it overflows usize.
pub(crate) fn product(context: &str, factors: &[(&str, usize)]) -> Result<(usize, String)> {
    let mut total: usize = 1;
    let mut text = String::new();
    for &(name, size) in factors {
        total = total.checked_mul(size).ok_or_else(|| {
            Error::new(
                Status::Shape,
                format!("{context}: the sizes {factors:?} overflow usize"),
            )
        })?;
        if !text.is_empty() {
            text.push_str(" x ");
        }
        text.push_str(&format!("{name} {size}"));
    }
    Ok((total, format!("{text} = {total}")))
}

/// Shape unless a slice `what` has exactly the length the sizes give: the
/// library trusts pointers to hold that many values, so a short slice never
/// reaches it.
pub(crate) fn check_len(context: &str, what: &str, got: usize, factors: &[(&str, usize)]) -> Result<()> {
    let (expected, explanation) = product(context, factors)?;
    if got != expected {
        return Err(Error::new(
            Status::Shape,
            format!("{context}: {what} has {got} values, expected {expected} ({explanation})"),
        ));
    }
    Ok(())
}
