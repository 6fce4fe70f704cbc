//! Arguments from JavaScript, checked here: a value of the wrong type is refused
//! with `invalid-argument`, naming the argument and what it got, never with one of
//! napi's own statuses (`StringExpected`, `InvalidArg`, ...), which are not
//! catalogue codes.
//!
//! Exports take their arguments as [`Unknown`] (or, for class instances,
//! [`Instance`]: the instance or anything else, so that napi's conversion never
//! fails on its own) and convert them with these functions. The TypeScript
//! declarations keep the precise types through `ts_args_type`.

use napi::bindgen_prelude::{ArrayBuffer, Either, FromNapiValue, TypedArray, Unknown};
use napi::{JsValue as _, ValueType};
use zeroize::Zeroizing;

use crate::error::{invalid_argument, Failure, Result};

/// Bytes copied out of JavaScript, wiped when dropped.
pub(crate) type Bytes = Zeroizing<Vec<u8>>;

/// A class instance argument, or whatever else JavaScript passed instead.
pub(crate) type Instance<'a, T> = Either<&'a T, Unknown<'a>>;

/// The instance in `value`, or `invalid-argument` naming `name` and `class`.
pub(crate) fn instance<'a, T>(value: Instance<'a, T>, name: &str, class: &str) -> Result<&'a T> {
    match value {
        Either::A(instance) => Ok(instance),
        Either::B(other) => Err(refused(name, &format!("a {class}"), &other)),
    }
}

/// The refusal of `new <class>()` for a class whose objects only come from other
/// calls (`made_by` says which): `invalid-argument`, where napi would throw an
/// error without a code.
pub(crate) fn not_constructible(class: &str, made_by: &str) -> Failure {
    invalid_argument(format!(
        "{class} has no constructor: its objects come from {made_by}"
    ))
}

/// A string argument.
pub(crate) fn string(value: Unknown<'_>, name: &str) -> Result<String> {
    typed(value, name, ValueType::String, "a string")
}

/// A string argument that may be `null` or `undefined`.
pub(crate) fn optional_string(value: Option<Unknown<'_>>, name: &str) -> Result<Option<String>> {
    value.map(|value| string(value, name)).transpose()
}

/// A number argument.
pub(crate) fn number(value: Unknown<'_>, name: &str) -> Result<f64> {
    typed(value, name, ValueType::Number, "a number")
}

/// A number argument that may be `null` or `undefined`.
pub(crate) fn optional_number(value: Option<Unknown<'_>>, name: &str) -> Result<Option<f64>> {
    value.map(|value| number(value, name)).transpose()
}

/// A boolean argument.
pub(crate) fn boolean(value: Unknown<'_>, name: &str) -> Result<bool> {
    typed(value, name, ValueType::Boolean, "a boolean")
}

/// An object argument (a `#[napi(object)]` shape, a map): a plain object whose
/// fields have the declared types.
pub(crate) fn object<T: FromNapiValue>(value: Unknown<'_>, name: &str) -> Result<T> {
    if kind(&value) != ValueType::Object {
        return Err(refused(name, "an object", &value));
    }
    T::from_unknown(value).map_err(|error| {
        invalid_argument(format!(
            "{name} is not the expected object: {}",
            error.reason
        ))
    })
}

/// An object argument that may be `null` or `undefined`.
pub(crate) fn optional_object<T: FromNapiValue>(
    value: Option<Unknown<'_>>,
    name: &str,
) -> Result<Option<T>> {
    value.map(|value| object(value, name)).transpose()
}

/// Bytes: an `ArrayBuffer` (what WebAuthn returns), any typed array view (a
/// `Buffer`, a `Uint8Array`, ...: the bytes it views) or nothing else. The copy
/// is wiped when dropped.
pub(crate) fn bytes(value: Unknown<'_>, name: &str) -> Result<Bytes> {
    let expected = "an ArrayBuffer, a typed array or a Buffer";
    let is = |check: napi::Result<bool>| check.unwrap_or(false);
    if is(value.is_arraybuffer()) {
        let buffer =
            ArrayBuffer::from_unknown(value).map_err(|_| refused(name, expected, &value))?;
        return Ok(Zeroizing::new(buffer.to_vec()));
    }
    if is(value.is_typedarray()) {
        let view = TypedArray::from_unknown(value).map_err(|_| refused(name, expected, &value))?;
        return Ok(Zeroizing::new(view.arraybuffer.to_vec()));
    }
    Err(refused(name, expected, &value))
}

/// Bytes that may be `null` or `undefined`.
pub(crate) fn optional_bytes(value: Option<Unknown<'_>>, name: &str) -> Result<Option<Bytes>> {
    value.map(|value| bytes(value, name)).transpose()
}

/// `value` converted to `T` when its JavaScript type is `expected`.
fn typed<T: FromNapiValue>(
    value: Unknown<'_>,
    name: &str,
    expected: ValueType,
    described: &str,
) -> Result<T> {
    if kind(&value) != expected {
        return Err(refused(name, described, &value));
    }
    T::from_unknown(value).map_err(|_| refused(name, described, &value))
}

fn kind(value: &Unknown<'_>) -> ValueType {
    value.get_type().unwrap_or(ValueType::Unknown)
}

/// `invalid-argument`: `<name> must be <expected>, got <what it got>`.
pub(crate) fn refused(name: &str, expected: &str, got: &Unknown<'_>) -> Failure {
    let got = match kind(got) {
        ValueType::Undefined => "undefined",
        ValueType::Null => "null",
        ValueType::Boolean => "a boolean",
        ValueType::Number => "a number",
        ValueType::String => "a string",
        ValueType::Symbol => "a symbol",
        ValueType::Object => "an object",
        ValueType::Function => "a function",
        _ => "another kind of value",
    };
    invalid_argument(format!("{name} must be {expected}, got {got}"))
}
