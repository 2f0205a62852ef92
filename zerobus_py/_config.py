"""WrapperConfiguration: every setting of a ZerobusWrapper.

The keyword names are those of the original Python API, so migrating is
changing the import line. Validation, YAML parsing and environment parsing are
done by the Go core (one set of rules for Go and Python); this module only
carries values.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import os
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol, TypedDict, TypeVar

from . import _bridge
from ._errors import ConfigurationError, ZerobusError
from ._errors import ConfigurationTypeError as ConfigurationTypeError  # defined here before: _wrapper imports it
from ._secret import SecretText, SecretURL, SecretValue
from ._typing import Unpack

__all__ = ["ObservabilityConfig", "WrapperConfiguration"]

REDACTED: Final = "<redacted>"


def _redact_url(url: str) -> str:
    """Return ``url`` with any user information (``user:password@``) replaced
    by ``<redacted>``: the Go core's rule (``core.RedactURL``), as it prints URLs."""
    return str(_bridge.call(_bridge.native.RedactURL, url))


def _shown_url(url: str) -> str:
    """``url`` with its user information redacted (:func:`_redact_url`), or ``"<redacted>"`` when Go cannot say
    (the native extension missing, a forked child): for a repr, which never raises."""
    try:
        return _redact_url(url)
    except (ImportError, ZerobusError):
        return REDACTED


def _plain(value: Any) -> Any:
    """A NumPy scalar (``numpy.generic``) as the Python value it holds
    (``numpy.int64(3)`` -> 3, ``numpy.True_`` -> True): settings read from a
    DataFrame or computed with NumPy are such scalars. Anything else, a NumPy
    array included (even of one element), is returned as is, for the type
    check that names the setting."""
    numpy = sys.modules.get("numpy")  # a NumPy value means NumPy is loaded: never imported here
    if numpy is not None and isinstance(value, numpy.generic):
        return value.item()
    return value


def _checked(
    name: str, value: Any, typ: type | tuple[type, ...], *, secret: bool = False, label: str | None = None
) -> Any:
    """``value`` of the setting ``name`` as the Go core takes it (a NumPy scalar as the value it holds, a path
    as its string); not of type ``typ``: :class:`ConfigurationError` naming the setting (as ``label`` when
    given: the name the caller wrote), the type expected and the one given (and the value, unless ``secret``)."""
    value = _plain(value)
    if (typ is int and isinstance(value, bool)) or not isinstance(value, typ):
        want = typ.__name__ if isinstance(typ, type) else "str or path"
        shown = "" if secret else f" {value!r}"
        got = type(value).__qualname__
        if type(value).__module__ != "builtins":  # not "expected bool, got bool" for another library's bool
            got = f"{type(value).__module__}.{got}"
        raise ConfigurationTypeError(f"{label or name}: expected {want}, got {got}{shown}", keys=[name])
    return os.fspath(value) if isinstance(value, os.PathLike) else value


@functools.cache
def _unit_kinds() -> dict[str, tuple[str, str]]:
    """``(type, unit)`` of each size and duration key in the Go core's settings table: its settings parser (of
    YAML, the environment and Spark's options) also reads them as text, ``"64MiB"``, ``"1.5s"``. Read once, when
    first needed."""
    return {s["key"]: (s["type"], s["unit"]) for s in go_settings() if s["type"] in ("size", "duration")}


def _unit_text(key: str, typ: type | tuple[type, ...], value: Any) -> str | None:
    """``value`` as the text the Go core's settings parser reads for the whole number setting ``key`` when it is
    a size or duration given as a ``str``, else ``None``."""
    value = _plain(value)
    if typ is int and isinstance(value, str) and key in _unit_kinds():
        return str(value)
    return None


def _parsed_units(texts: Mapping[str, str]) -> dict[str, int]:
    """The whole numbers, each in its key's unit, that the Go core's settings parser (YAML's and the
    environment's: pybind ``ParseSettings``) reads from ``texts`` (key -> text); its :class:`ConfigurationError`
    naming every key whose text it cannot parse, raised as :class:`ConfigurationTypeError`: a keyword given a
    value it cannot take is a ``TypeError`` (the original's class for a value of the wrong type), whatever else
    is wrong. A text Go parses but refuses by range (``"0s"`` where 0 is not accepted) is read as its whole
    number, which ``validate()`` refuses as it does the same int (:func:`_unit_value`)."""
    try:
        out = json.loads(_bridge.call(_bridge.native.ParseSettings, json.dumps(dict(texts))))
    except ConfigurationTypeError:
        raise
    except ConfigurationError as err:  # Go's words and details (keys), re-classed
        read = {key: _unit_value(key, text) for key, text in texts.items()}
        if any(n is None for n in read.values()):
            unread = {key: texts[key] for key, n in read.items() if n is None}
            err = _parse_error(unread) if len(unread) < len(texts) else err
            raise ConfigurationTypeError(err.message, details=err.details) from None
        return {key: int(n) for key, n in read.items() if n is not None}
    return {key: int(out[key]) for key in texts}


def _parse_error(texts: Mapping[str, str]) -> ConfigurationError:
    """The Go core's :class:`ConfigurationError` refusing ``texts`` (key -> text) together."""
    try:
        _bridge.call(_bridge.native.ParseSettings, json.dumps(dict(texts)))
    except ConfigurationError as err:
        return err
    raise AssertionError("the Go core read texts it refused")  # pragma: no cover


def _unit_value(key: str, text: str) -> int | None:
    """The whole number the Go core's settings parser reads from ``text`` for ``key``, or for another key of
    the same type and unit in its settings table when ``key``'s own range refuses it (``"0s"`` where 0 is not
    accepted, ``"2GiB"`` above an int's range): that number is refused by :meth:`WrapperConfiguration.validate`
    as the same int would be. ``None`` when no such key reads it: Go cannot parse it."""
    table = _unit_kinds()
    kind = table.get(key)
    for other in [key, *sorted(k for k, t in table.items() if t == kind and k != key)]:
        try:
            out = json.loads(_bridge.call(_bridge.native.ParseSettings, json.dumps({other: text})))
        except ConfigurationError:
            continue
        return int(out[other])
    return None


_C = TypeVar("_C", bound=type)
_G = TypeVar("_G")

if TYPE_CHECKING:

    class _TextUnits(Protocol[_G]):
        """For type checkers only: a size or duration attribute, read as ``_G`` (an int, the one Go read) and
        assigned an int or the text the Go core's settings parser reads (``"64MiB"``, ``"1.5s"``)."""

        def __get__(self, obj: object, owner: type | None = None) -> _G: ...

        def __set__(self, obj: object, value: _G | str) -> None: ...


def _keywords_suggested(cls: _C) -> _C:
    """``cls`` with an ``__init__`` that refuses an unknown keyword as :class:`ConfigurationError` (also a
    ``TypeError``, the class Python raises for it) with Python's words and the Go core's "did you mean" among the
    keywords (``core.DidYouMean``), as a mistyped attribute, YAML key, Spark option or command-line flag gets.
    The signature stays the original one: ``inspect.signature`` follows ``__wrapped__``. When ``cls`` has a
    ``_sealed_keywords()`` (keyword -> str subclass), those arguments given as a ``str`` are sealed first (their repr
    hides the secret), so that no frame of a failing construction shows one among its locals. When it has a
    ``_fold_keywords(kwargs)``, that turns extra keywords into the signature's (in place) before they are checked."""
    init: Callable[..., None] = cls.__init__  # type: ignore[misc]
    params = inspect.signature(init).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return cls
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    names = frozenset(name for name, p in params.items() if p.kind in kinds)
    keywords = sorted(names - {"self"})
    # The parameters that may be given positionally, "self" first: a secret given so is sealed too.
    positional = [name for name, p in params.items() if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    sealing: Callable[[], Mapping[str, type[str]]] | None = getattr(cls, "_sealed_keywords", None)

    @functools.wraps(init)
    def __init__(*args: Any, **kwargs: Any) -> None:
        if sealing is not None:
            # Before anything can raise: the secrets given are kept, in this frame and every frame below it, as
            # the str subclasses whose repr hides them (a traceback's captured locals, Sentry, pytest -l).
            sealed = sealing()
            _seal(kwargs, sealed)
            args = tuple(
                _sealed_value(a, sealed.get(positional[i] if i < len(positional) else "")) for i, a in enumerate(args)
            )
        fold: Callable[[dict[str, Any]], None] | None = getattr(cls, "_fold_keywords", None)
        if fold is not None:
            fold(kwargs)
        unknown = [k for k in kwargs if k not in names]
        if unknown:
            raise _unknown_keywords(init.__qualname__, unknown, keywords)
        init(*args, **kwargs)

    cls.__init__ = __init__  # type: ignore[misc]
    return cls


def _sealed_value(value: Any, kind: type[str] | None) -> Any:
    """``value`` as ``kind`` (a str subclass whose repr hides the secret) when it is a plain ``str`` to seal."""
    if kind is not None and isinstance(value, str) and not isinstance(value, kind):
        return kind(value)
    return value


def _seal(values: dict[str, Any], kinds: Mapping[str, type[str]]) -> None:
    """Seal, in place, each value of ``values`` named in ``kinds`` that is a ``str``: as the ``kinds[name]``
    (:class:`~zerobus_py._secret.SecretValue`, :class:`~zerobus_py._secret.SecretURL`) holding the same text, so
    that the frames a failing constructor leaves in a traceback never show it (``kwargs``, ``**settings``)."""
    for name, kind in kinds.items():
        if name in values:
            values[name] = _sealed_value(values[name], kind)


def _unknown_keywords(function: str, unknown: list[str], keywords: list[str]) -> ConfigurationTypeError:
    """The error of keywords ``unknown`` given to ``function`` (Python's words), each with the Go core's
    suggestion among ``keywords`` when it has one."""
    if len(unknown) == 1:
        message = f"{function}() got an unexpected keyword argument {unknown[0]!r}{_did_you_mean(unknown[0], keywords)}"
    else:
        shown = []
        for name in unknown:
            phrase = _did_you_mean(name, keywords).removeprefix("; ")
            shown.append(f"{name!r} ({phrase})" if phrase else repr(name))
        message = f"{function}() got unexpected keyword arguments {', '.join(shown)}"
    return ConfigurationTypeError(message, keys=unknown)


@_keywords_suggested
@dataclass
class ObservabilityConfig:
    """OpenTelemetry export and logging settings.

    With ``observability_enabled=True`` the Go core sets up OpenTelemetry
    exactly as the Go API's ``SetupTelemetry`` does: metrics and spans go to
    ``endpoint`` over OTLP and/or, with ``output_dir``, to OTLP JSON files
    there (``metrics.jsonl``, ``traces.jsonl``, ``logs.jsonl``); they are
    flushed when the wrapper is shut down. Whatever ``observability_enabled``
    says, Go's log records at ``log_level`` reach the ``zerobus_py`` logger
    of Python's :mod:`logging`, and ``log_file`` (if set) gets them as JSON
    lines. With ``observability_enabled=False`` the export fields
    (``endpoint``, ``protocol``, ``output_dir``, ``interval_secs``) are
    ignored with a :class:`UserWarning` naming them. Every file is rotated at ``max_file_mb`` MiB, keeping
    ``max_backups`` old copies.

    Attributes:
        endpoint: OTLP collector, e.g. ``"http://127.0.0.1:4317"`` (YAML
            ``otlp_endpoint``).
        protocol: ``"grpc"`` (default) or ``"http"`` (YAML ``otlp_protocol``).
        output_dir: write OTLP JSON files here instead of (or besides) the
            endpoint (YAML ``observability_output_dir``).
        interval_secs: metric export interval in seconds; default 10 (YAML
            ``observability_interval_secs``). Also a text the Go core reads, as
            the ``*_secs`` keywords of :class:`WrapperConfiguration` take it
            (``"10s"``, ``"2m"``); a text it cannot read, or another type, is a
            :class:`ConfigurationError` (also a ``TypeError``) at once. The dict
            form of ``observability_config`` takes an int only.
        log_level: ``debug``, ``info`` (default), ``warn`` or ``error`` (YAML
            ``log_level``): the least severe Go record passed to Python logging
            and the files.
        log_file: also append Go's log records to this file as JSON lines
            (YAML ``log_file``).
        max_file_mb: rotate each telemetry or log file at this size in MiB;
            default 100 (YAML ``observability_max_file_mb``).
        max_backups: rotated copies of each file kept; default 5 (YAML
            ``observability_max_backups``).
    """

    endpoint: str | None = None
    protocol: str | None = None
    output_dir: str | os.PathLike[str] | None = None
    if TYPE_CHECKING:
        interval_secs: _TextUnits[int | None] = None  # type: ignore[assignment]
    else:
        interval_secs: int | None = None
    log_level: str | None = None
    log_file: str | os.PathLike[str] | None = None
    max_file_mb: int | None = None
    max_backups: int | None = None

    @staticmethod
    def _sealed_keywords() -> Mapping[str, type[str]]:
        """The keywords sealed as the constructor is entered (:func:`_keywords_suggested`): the endpoint, whose
        ``user:password@`` repr hides."""
        return _OBS_SEALED

    def __post_init__(self) -> None:
        # A duration refused here as WrapperConfiguration's keywords are: a value of the wrong type (10.5) or a
        # text Go cannot parse (__setattr__) is a TypeError at construction; its range waits for validate().
        for attr, key, typ in _OBS_FIELDS:
            value = getattr(self, attr)
            if value is not None and key in _unit_kinds():
                _checked(key, value, typ)

    def _setattr(self, name: str, value: Any) -> None:
        # a mistyped field (obs.enpoint = ...) is refused, as WrapperConfiguration's
        if not name.startswith("_") and name not in self.__dataclass_fields__ and not hasattr(type(self), name):
            raise AttributeError(
                f"ObservabilityConfig has no field {name!r}{_did_you_mean(name, self.__dataclass_fields__)}"
            )
        if name in _OBS_SEALED and isinstance(value, str):
            # sealed when it holds user:password (its repr hides them: vars(obs), a debugger); else a plain str,
            # which yaml.safe_dump and other serialisers of dataclasses.asdict(obs) take
            value = _sealed_value(value, _OBS_SEALED[name]) if "@" in value else str.__str__(value)
        field = _OBS_FIELD.get(name)
        if field is not None and (text := _unit_text(field[0], field[1], value)) is not None:
            # "10s" as the YAML key, the environment and WrapperConfiguration's *_secs keywords take it: Go's int
            value = _parsed_units({field[0]: text})[field[0]]
        object.__setattr__(self, name, value)

    # Bound as __setattr__ at run time only: a class with __setattr__ tells checkers that any attribute may be
    # assigned, so the mistyped names it refuses (`obs.log_levl = ...`, `cfg.retry_max_attemps = 3`) were not
    # reported. Without it the declared attributes are all a checker allows, as the run time does.
    if not TYPE_CHECKING:
        __setattr__ = _setattr

    def __repr__(self) -> str:
        # the dataclass repr, with user information in the endpoint URL redacted
        shown = {f: getattr(self, f) for f in self.__dataclass_fields__}
        if isinstance(self.endpoint, str):
            shown["endpoint"] = _redact_url(self.endpoint)
        return f"ObservabilityConfig({', '.join(f'{k}={v!r}' for k, v in shown.items())})"

    def to_settings(self) -> dict[str, Any]:
        """Return the Go core's YAML keys for the fields that are set. A value of the wrong Python type
        raises :class:`ConfigurationError` naming its key, as :class:`WrapperConfiguration` does."""
        return self._settings(sealed=False)

    def _settings(self, *, sealed: bool) -> dict[str, Any]:
        """:meth:`to_settings`; with ``sealed`` the endpoint stays the str subclass whose repr is redacted."""
        out: dict[str, Any] = {}
        for attr, key, typ in _OBS_FIELDS:
            value = getattr(self, attr)
            if value is not None:
                value = _checked(key, value, typ)
                out[key] = str(value) if isinstance(value, str) and not sealed else value
        return out

    @classmethod
    def from_mapping(cls, m: Mapping[str, Any]) -> ObservabilityConfig:
        """Build from a dict using either the short names (``endpoint``,
        ``protocol``, ``output_dir``, ``interval_secs``, ``log_level``), the
        original Python API's ``write_interval_secs`` (= ``interval_secs``)
        or the YAML keys (``otlp_endpoint``, ...).

        An unknown key is skipped with a :class:`UserWarning` naming it (the
        original API ignored keys it did not read; its quick start invites
        ``# ... other OTLP config``). A value of the wrong type raises
        :class:`ConfigurationError` naming the key as written in ``m`` (the
        original silently used the default instead)."""
        # the short names and the YAML keys of _OBS_FIELDS, and the original's name
        aliases = {name: attr for attr, key, _ in _OBS_FIELDS for name in (attr, key)}
        aliases["write_interval_secs"] = "interval_secs"
        fields = {attr: (key, typ) for attr, key, typ in _OBS_FIELDS}
        kw: dict[str, Any] = {}
        for k, v in m.items():
            if k not in aliases:
                known = sorted(set(aliases))
                warnings.warn(
                    f"observability_config: ignoring unknown key {k!r}{_did_you_mean(str(k), known)}; known keys: "
                    + ", ".join(known),
                    UserWarning,
                    stacklevel=2,
                )
                continue
            attr = aliases[k]
            key, typ = fields[attr]
            if v is not None:
                label = key if k == key else f"observability_config[{k!r}] ({key})"
                v = _checked(key, v, typ, label=label)
            kw[attr] = v
        return cls(**kw)


def go_settings() -> list[dict[str, Any]]:
    """The Go core's one settings table (``core.Settings``): one dict per key
    with ``key``, ``field``, ``type``, ``unit``, ``default``, ``secret``,
    ``url``, ``env`` and ``doc``. ``tests_py/test_settings_table.py`` checks the
    keywords, types, defaults and secret flags of this module against it."""
    table: list[dict[str, Any]] = json.loads(_bridge.call(_bridge.native.SettingsTable))
    return table


# (python attribute, key of the Go core's settings table, expected python
# type); checked against go_settings() by tests_py/test_settings_table.py.
_FIELDS: Final[tuple[tuple[str, str, type | tuple[type, ...]], ...]] = (
    ("endpoint", "endpoint", str),
    ("table_name", "table_name", str),
    ("unity_catalog_url", "unity_catalog_url", str),
    ("client_id", "client_id", str),
    ("client_secret", "client_secret", str),
    ("proxy_url", "proxy_url", str),
    ("tls_ca_file", "tls_ca_file", (str, os.PathLike)),
    ("retry_max_attempts", "retry_max_attempts", int),
    ("retry_base_delay_ms", "retry_base_delay_ms", int),
    ("retry_max_delay_ms", "retry_max_delay_ms", int),
    ("debug_enabled", "debug_enabled", bool),
    ("debug_arrow_enabled", "debug_arrow_enabled", bool),
    ("debug_protobuf_enabled", "debug_protobuf_enabled", bool),
    ("debug_output_dir", "debug_output_dir", (str, os.PathLike)),
    ("debug_flush_interval_secs", "debug_flush_interval_secs", int),
    ("debug_max_file_size", "debug_max_file_size", int),
    ("debug_max_files_retained", "debug_max_files_retained", int),
    ("debug_arrow_compression", "debug_arrow_compression", str),
    ("debug_rotation_interval_secs", "debug_rotation_interval_secs", int),
    ("observability_enabled", "observability_enabled", bool),
    ("zerobus_writer_disabled", "zerobus_writer_disabled", bool),
    ("max_inflight_requests", "max_inflight_requests", int),
    ("max_inflight_bytes", "max_inflight_bytes", int),
    ("max_message_bytes", "max_message_bytes", int),
    ("max_record_bytes", "max_record_bytes", int),
    ("create_timeout_ms", "create_timeout_ms", int),
    ("ack_timeout_ms", "ack_timeout_ms", int),
    ("flush_timeout_ms", "flush_timeout_ms", int),
    ("streams_per_schema", "streams_per_schema", int),
    ("all_fields_optional", "all_fields_optional", bool),
    ("transport", "transport", str),
    ("arrow_flight_compression", "arrow_flight_compression", str),
)

# Attributes whose getters hide (part of) the value; the value lives in "_" + name.
_SECRETS: Final = frozenset({"client_secret", "proxy_url"})

# The keywords holding a secret, and the str subclass each is sealed as when the constructor is entered.
_SEALED_KEYWORDS: Final[Mapping[str, type[str]]] = {
    "client_secret": SecretValue,
    "proxy_url": SecretURL,
    "otlp_endpoint": SecretURL,  # a keyword folded into observability_config (WrapperConfiguration._fold_keywords)
}
# ObservabilityConfig's: the OTLP endpoint may carry user:password@.
_OBS_SEALED: Final[Mapping[str, type[str]]] = {"endpoint": SecretURL}

# The private attributes holding them, and the str subclass each value is kept as (its repr redacted).
_SEALED: Final[dict[str, type[str]]] = {"_client_secret": SecretValue, "_proxy_url": SecretURL}


@functools.cache
def _url_keys() -> frozenset[str]:
    """Keys of URLs whose user information (user:password@) printing hides,
    as the Go core's Config.String does: the settings table's ``url`` flag
    (endpoint and unity_catalog_url refuse user information, but a repr must
    not show it before validation does). Read once, when first printed."""
    return frozenset(s["key"] for s in go_settings() if s["url"])


# The debug switches, and the display name of each kind of debug file (the
# kinds core.Config.DebugKinds returns).
_DEBUG_SWITCHES: Final = ("debug_enabled", "debug_arrow_enabled", "debug_protobuf_enabled")
_KIND_NAME: Final = {"arrow": "Arrow IPC", "protobuf": "protobuf"}

# (ObservabilityConfig attribute, key of the Go core's settings table, expected python type), as _FIELDS.
_OBS_FIELDS: Final[tuple[tuple[str, str, type | tuple[type, ...]], ...]] = (
    ("endpoint", "otlp_endpoint", str),
    ("protocol", "otlp_protocol", str),
    ("output_dir", "observability_output_dir", (str, os.PathLike)),
    ("interval_secs", "observability_interval_secs", int),
    ("log_level", "log_level", str),
    ("log_file", "log_file", (str, os.PathLike)),
    ("max_file_mb", "observability_max_file_mb", int),
    ("max_backups", "observability_max_backups", int),
)
_OBS_KEYS: Final = frozenset(key for _, key, _ in _OBS_FIELDS)
# ObservabilityConfig attribute -> (its key, its expected type).
_OBS_FIELD: Final = {attr: (key, typ) for attr, key, typ in _OBS_FIELDS}
# The Go core's key of an ObservabilityConfig field -> its expected type.
_OBS_KEY_TYPE: Final = {key: typ for _, key, typ in _OBS_FIELDS}

# The attributes a WrapperConfiguration holds settings in (assigning another public name is refused).
_ATTRS: Final = frozenset(attr for attr, _, _ in _FIELDS) | {"observability_config"}
# The whole-number attributes (those a size or duration given as text may be).
_INT_ATTRS: Final = frozenset(attr for attr, _, typ in _FIELDS if typ is int)


def _ignored_export_settings(settings: dict[str, Any]) -> list[str]:
    """The settings given that are unused, as the Go core decides (``core.IgnoredExportSettingsOf``: the export
    settings when observability_enabled is False, the file rotation settings when no log or telemetry file is
    written; a default value is not one, nor is a value Go refuses: that one is validated and reported, as in Go
    and the CLI), whatever the other settings hold."""
    out = json.loads(_bridge.call(_bridge.native.IgnoredExportSettings, json.dumps(settings)))
    return [str(k) for k in out or []]


def _nearest(name: str, candidates: Iterable[str]) -> str:
    """The candidate nearest ``name`` by the Go core's one "did you mean" rule (``core.Nearest``), else ``""``."""
    try:
        return str(_bridge.call(_bridge.native.Nearest, name, json.dumps(sorted(candidates))))
    except (ImportError, ZerobusError):
        return ""


def _did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """``'; did you mean "x"?'`` for the candidate nearest ``name``, else ``""``: the phrase of the Go core
    (``core.DidYouMean``, the one wording of every suggestion, of unknown setting keys included)."""
    try:
        phrase = str(_bridge.call(_bridge.native.DidYouMean, name, json.dumps(sorted(candidates))))
    except (ImportError, ZerobusError):
        return ""
    return f"; {phrase}" if phrase else ""


def _observability_type_error(oc: Any) -> ConfigurationTypeError:
    """The error of an ``observability_config`` that is neither an :class:`ObservabilityConfig` nor a mapping."""
    return ConfigurationTypeError(
        f"observability_config must be an ObservabilityConfig or a dict, not {type(oc).__name__}",
        keys=["observability_config"],
    )


# The keywords of WrapperConfiguration as a TypedDict, for the ``**settings`` that are passed on to it
# (``ZerobusWrapper(endpoint=..., table_name=...)``, ``LocalServer.config(table, **settings)``, ``copy(**changes)``):
# typed as ``Unpack[...]``, a checker reports a mistyped keyword or a value of the wrong type there as it does for
# ``WrapperConfiguration(...)``, and an IDE completes them. A copy of the signature's keywords and types, which
# tests_py/test_s21_typing.py keeps equal to it (and test_settings_table.py keeps the signature equal to the Go
# core's settings table).


class _SettingsButTable(TypedDict, total=False):
    """The keywords of :class:`WrapperConfiguration` but ``table_name``."""

    endpoint: str | None
    client_id: str | None
    client_secret: str | None
    unity_catalog_url: str | None
    proxy_url: str | None
    tls_ca_file: str | os.PathLike[str] | None
    observability_enabled: bool
    observability_config: ObservabilityConfig | Mapping[str, Any] | None
    debug_enabled: bool
    debug_arrow_enabled: bool | None
    debug_protobuf_enabled: bool | None
    debug_output_dir: str | os.PathLike[str] | None
    debug_flush_interval_secs: int | str
    debug_max_file_size: int | str | None
    debug_max_files_retained: int | None
    debug_arrow_compression: str | None
    retry_max_attempts: int
    retry_base_delay_ms: int | str
    retry_max_delay_ms: int | str
    zerobus_writer_disabled: bool
    debug_rotation_interval_secs: int | str | None
    max_inflight_requests: int | None
    max_inflight_bytes: int | str | None
    max_message_bytes: int | str | None
    max_record_bytes: int | str | None
    create_timeout_ms: int | str | None
    ack_timeout_ms: int | str | None
    flush_timeout_ms: int | str | None
    streams_per_schema: int | None
    all_fields_optional: bool | None
    transport: str | None
    arrow_flight_compression: str | None
    otlp_endpoint: str | None
    otlp_protocol: str | None
    observability_output_dir: str | os.PathLike[str] | None
    observability_interval_secs: int | str | None
    log_level: str | None
    log_file: str | os.PathLike[str] | None
    observability_max_file_mb: int | None
    observability_max_backups: int | None


class _Settings(_SettingsButTable, total=False):
    """Every keyword of :class:`WrapperConfiguration`."""

    table_name: str | None


@_keywords_suggested
class WrapperConfiguration:
    """Every setting of a :class:`~zerobus_py.ZerobusWrapper`.

    Only ``endpoint`` and ``table_name`` are positional; everything else is a
    keyword. ``None`` means "the Go core's default" (documented per field).

    Checks happen where the original Python API makes them, each reporting
    every problem at once with the Go core's rules: construction raises
    :class:`ConfigurationError` (also a ``TypeError``) for a value of the
    wrong type, naming the setting, or an unknown keyword, with the Go core's
    "did you mean" among the keywords, and when a debug output is enabled without
    ``debug_output_dir`` (that problem alone, so settings may be completed
    after construction); :meth:`validate` checks formats and combinations;
    creating a :class:`~zerobus_py.ZerobusWrapper` that sends also requires
    the credentials and a ``catalog.schema.table`` name.

    Args:
        endpoint: Zerobus gRPC endpoint, ``https://<workspace-id>.zerobus.<region>.cloud.databricks.com``
            (``http://host:port`` for a local plaintext server). Required unless
            ``zerobus_writer_disabled``.
        table_name: target table, ``catalog.schema.table``. Required.
            :meth:`validate` also accepts ``schema.table`` and ``table``
            (letters, digits, ``_``); a wrapper that sends needs all three parts.
        client_id: service principal client id (OAuth). Required when a
            wrapper that sends is created (not with the writer disabled).
        client_secret: service principal secret. Never shown by ``repr``, the
            ``client_secret`` getter or any error.
        unity_catalog_url: workspace URL serving ``/oidc/v1/token``.
        proxy_url: HTTP proxy for all traffic (gRPC as HTTP CONNECT tunnels,
            token requests through it, loopback included):
            ``http://[user:password@]host[:port]``, or ``https://...`` for TLS
            to the proxy (YAML ``proxy_url``, env ``ZEROBUS_PROXY_URL``).
            ``None`` (default) uses the environment (``HTTPS_PROXY``,
            ``NO_PROXY``). The ``proxy_url`` getter, ``repr`` and errors show
            it with ``user:password`` redacted.
        tls_ca_file: PEM file of CA certificates trusted instead of the
            system roots for every TLS connection: the endpoint (gRPC and
            Arrow Flight), the token and Unity Catalog requests to
            ``unity_catalog_url``, an ``https://`` proxy (YAML
            ``tls_ca_file``, env ``ZEROBUS_TLS_CA_FILE``). For private CAs
            and ``LocalServer(tls=True)`` (its :attr:`~zerobus_py.local.LocalServer.ca_file`).
            Read when the wrapper is created: a missing file, or one without
            a valid certificate, raises :class:`ConfigurationError` naming
            it. ``None`` (default): the system roots.
        observability_enabled: export OpenTelemetry data (default False).
        observability_config: :class:`ObservabilityConfig` or a dict of its
            fields: the OTLP endpoint / output directory, and the log level
            and log file of the Go records sent to the ``zerobus_py`` logger
            (those apply even when ``observability_enabled`` is False).
            Its YAML keys (``log_level``, ``log_file``, ``otlp_endpoint``,
            ``otlp_protocol``, ``observability_output_dir``,
            ``observability_interval_secs``, ``observability_max_file_mb``,
            ``observability_max_backups``) are keywords too (the last ones of
            the signature), moved into ``observability_config`` (given both
            ways, one field is refused; ``observability_interval_secs`` also
            as a text the Go core reads, ``"5s"``), so every YAML key is a keyword:
            ``WrapperConfiguration(**yaml.safe_load(f))``.
        debug_enabled: write Arrow and protobuf debug files (default False),
            unless ``debug_arrow_enabled`` or ``debug_protobuf_enabled`` is
            given too (not ``None``, also ``False``): as in the original,
            those two then alone say which kinds are written (one left
            ``None`` is off), so ``debug_enabled=True,
            debug_protobuf_enabled=False`` writes no debug file.
        debug_arrow_enabled: write Arrow IPC debug files; ``None`` (default)
            leaves the choice to ``debug_enabled``.
        debug_protobuf_enabled: write protobuf debug files; ``None`` (default)
            leaves the choice to ``debug_enabled``.
        debug_output_dir: directory for debug files (required when a debug
            switch is on, ``debug_enabled`` included).
        debug_flush_interval_secs: flush debug files at least this often (default 5).
        debug_max_file_size: rotate a debug file after this many bytes
            (default 128 MiB). As in YAML and the environment, every size
            may be given as text (``"64MiB"``, ``"1GB"``) and every
            ``*_ms`` / ``*_secs`` duration as a Go duration that is a whole
            number of its unit (``"1.5s"`` for a ``*_ms`` keyword, ``"90s"``
            or ``"2m"`` for a ``*_secs`` one, which refuses ``"1.5s"``): the
            Go core's parser reads it and the attribute holds the int (a text
            it refuses raises its :class:`ConfigurationError`, also a
            ``TypeError`` as a value of the wrong type). Reading a text is a
            call into Go, after which a forked process cannot use zerobus_py
            (an int is not: see the README's drop-in table, fork row).
        debug_max_files_retained: rotated files kept per kind (default 10;
            0 keeps none, only the file being written, as in the original;
            ``None`` keeps all, as in the original, and so does a negative
            number; a YAML ``null`` or an empty Spark option means the
            default, 10: write ``-1`` there to keep all).
        debug_arrow_compression: compress the Arrow debug files with Arrow
            IPC buffer compression: ``"zstd"``, ``"lz4"`` or ``"none"``;
            ``None`` (default) means none (YAML ``debug_arrow_compression``,
            env ``DEBUG_ARROW_COMPRESSION``). The files stay Arrow IPC streams
            that ``pyarrow.ipc.open_stream`` and
            :func:`zerobus_py.debug.read_file` decompress transparently;
            protobuf debug files are never compressed.
        retry_max_attempts: attempts for stream creation/recovery (default 5).
        retry_base_delay_ms: first backoff delay (default 100).
        retry_max_delay_ms: backoff cap (default 30000).
        zerobus_writer_disabled: convert (and write debug files) but send
            nothing; no network or credentials needed (default False).
            :meth:`validate` requires a debug output with it.
        transport: how batches travel: ``"protobuf"`` (``None``, the
            default: every row encoded as a protobuf record) or
            ``"arrow_flight"`` (the Arrow batches themselves, cast to the
            table's Arrow types, over Arrow Flight with record-level
            acknowledgements) (YAML ``transport``, env ``ZEROBUS_TRANSPORT``).
        arrow_flight_compression: with ``transport="arrow_flight"``,
            compress the Arrow IPC buffers sent (``"zstd"``, ``"lz4"``), or
            each whole gRPC message (``"grpc_zstd"``), or nothing
            (``"none"``); ``None`` (default) means none; refused with
            ``transport="protobuf"`` (YAML ``arrow_flight_compression``, env
            ``ZEROBUS_ARROW_FLIGHT_COMPRESSION``).
        debug_rotation_interval_secs, max_inflight_requests, max_inflight_bytes,
        max_message_bytes, max_record_bytes, create_timeout_ms, ack_timeout_ms,
        flush_timeout_ms, streams_per_schema, all_fields_optional: advanced
            settings of the Go core with the same YAML keys; ``None`` keeps the
            core default. ``all_fields_optional`` matters only when the
            table's columns cannot be read from Unity Catalog: when they can
            (``unity_catalog_url`` and a principal allowed to read the
            table), the table's nullability decides.
    """

    if TYPE_CHECKING:
        # The sizes and durations: assigned an int or text, read as the int (__setattr__ converts the text).
        debug_flush_interval_secs: _TextUnits[int]
        debug_max_file_size: _TextUnits[int | None]
        retry_base_delay_ms: _TextUnits[int]
        retry_max_delay_ms: _TextUnits[int]
        debug_rotation_interval_secs: _TextUnits[int | None]
        max_inflight_bytes: _TextUnits[int | None]
        max_message_bytes: _TextUnits[int | None]
        max_record_bytes: _TextUnits[int | None]
        create_timeout_ms: _TextUnits[int | None]
        ack_timeout_ms: _TextUnits[int | None]
        flush_timeout_ms: _TextUnits[int | None]

    @staticmethod
    def _sealed_keywords() -> Mapping[str, type[str]]:
        """The keywords sealed as the constructor is entered (:func:`_keywords_suggested`), so that no frame of
        a failing construction holds the secret as a plain ``str``."""
        return _SEALED_KEYWORDS

    @staticmethod
    def _fold_keywords(kwargs: dict[str, Any]) -> None:
        """The Go core's keys of the :class:`ObservabilityConfig` fields (``log_level``, ``otlp_endpoint``, ...:
        the keys of ``_OBS_FIELDS``, which ``tests_py/test_settings_table.py`` checks against Go's settings table)
        given as keywords, moved into ``observability_config`` in place: every YAML key is a keyword, so
        ``WrapperConfiguration(**yaml.safe_load(f))`` and ``WrapperConfiguration(**cfg.to_settings(...))`` work. A
        field given both ways is refused. A duration given as text (``observability_interval_secs="5s"``, as its
        signature and ``_Settings`` type it) is the whole number the Go core's settings parser reads from it, as
        for :class:`ObservabilityConfig`'s ``interval_secs`` and the ``*_secs`` keywords; a text Go cannot read is
        a :class:`ConfigurationError` (also a ``TypeError``) naming the keyword."""
        flat = {key: kwargs.pop(key) for key in [k for k in kwargs if k in _OBS_KEYS]}
        if not flat:
            return
        texts = {
            key: text for key, value in flat.items() if (text := _unit_text(key, _OBS_KEY_TYPE[key], value)) is not None
        }
        if texts:
            flat.update(_parsed_units(texts))  # "5s": the int Go reads (the dict form takes an int only)
        oc = kwargs.get("observability_config")
        if oc is None:
            kwargs["observability_config"] = ObservabilityConfig.from_mapping(flat)
            return
        if isinstance(oc, ObservabilityConfig):
            current = {key: getattr(oc, attr) for attr, key, _ in _OBS_FIELDS if getattr(oc, attr) is not None}
        elif isinstance(oc, Mapping):
            aliases = {name: key for attr, key, _ in _OBS_FIELDS for name in (attr, key)}
            aliases["write_interval_secs"] = aliases["interval_secs"]
            current = {aliases.get(str(k), str(k)): v for k, v in oc.items() if v is not None}
        else:
            return  # refused by the constructor (the wrong type), with the keywords' values unused
        twice = sorted(current.keys() & flat.keys())
        if twice:
            raise ConfigurationError(
                f"{' and '.join(twice)} {'is' if len(twice) == 1 else 'are'} given both as a keyword and in "
                "observability_config: give each once",
                keys=twice,
            )
        merged = {**current, **flat}
        kwargs["observability_config"] = (
            ObservabilityConfig.from_mapping(merged) if isinstance(oc, ObservabilityConfig) else {**oc, **flat}
        )

    def __init__(
        self,
        endpoint: str | None = None,
        table_name: str | None = None,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        unity_catalog_url: str | None = None,
        proxy_url: str | None = None,
        tls_ca_file: str | os.PathLike[str] | None = None,
        observability_enabled: bool = False,
        observability_config: ObservabilityConfig | Mapping[str, Any] | None = None,
        debug_enabled: bool = False,
        debug_arrow_enabled: bool | None = None,
        debug_protobuf_enabled: bool | None = None,
        debug_output_dir: str | os.PathLike[str] | None = None,
        debug_flush_interval_secs: int | str = 5,
        debug_max_file_size: int | str | None = None,
        debug_max_files_retained: int | None = 10,
        debug_arrow_compression: str | None = None,
        retry_max_attempts: int = 5,
        retry_base_delay_ms: int | str = 100,
        retry_max_delay_ms: int | str = 30000,
        zerobus_writer_disabled: bool = False,
        debug_rotation_interval_secs: int | str | None = None,
        max_inflight_requests: int | None = None,
        max_inflight_bytes: int | str | None = None,
        max_message_bytes: int | str | None = None,
        max_record_bytes: int | str | None = None,
        create_timeout_ms: int | str | None = None,
        ack_timeout_ms: int | str | None = None,
        flush_timeout_ms: int | str | None = None,
        streams_per_schema: int | None = None,
        all_fields_optional: bool | None = None,
        transport: str | None = None,
        arrow_flight_compression: str | None = None,
        # The ObservabilityConfig fields by their YAML keys, in the signature for help() and type checkers: the
        # class decorator moves them into observability_config (_fold_keywords) before this runs, so here they
        # are always None.
        otlp_endpoint: str | None = None,
        otlp_protocol: str | None = None,
        observability_output_dir: str | os.PathLike[str] | None = None,
        observability_interval_secs: int | str | None = None,
        log_level: str | None = None,
        log_file: str | os.PathLike[str] | None = None,
        observability_max_file_mb: int | None = None,
        observability_max_backups: int | None = None,
    ) -> None:
        given = dict(locals())  # the keywords, by name
        # A value of the wrong type is refused here, as the original's typed constructor did (a TypeError),
        # every such value at once. A size or duration given as text ("64MiB", "1.5s") is read by the Go core's
        # settings parser, as in YAML and the environment: the attribute holds the whole number it reads.
        wrong: list[ConfigurationTypeError] = []
        texts: dict[str, str] = {}
        for attr, _key, typ in _FIELDS:
            value = given[attr]
            text = _unit_text(attr, typ, value)
            if text is not None:
                texts[attr] = text
            elif value is not None:
                try:
                    _checked(attr, value, typ, secret=attr in _SECRETS)
                except ConfigurationTypeError as err:
                    wrong.append(err)
        if not isinstance(observability_config, (type(None), ObservabilityConfig, Mapping)):
            # refused here, as the original's typed constructor did (a TypeError)
            wrong.append(_observability_type_error(observability_config))
        refused: ConfigurationTypeError | None = None
        if texts:
            try:
                _parsed_units(texts)  # every text Go refuses at once
            except ConfigurationTypeError as err:  # Go's words, naming each keyword
                if not wrong:
                    raise
                refused = err
        if len(wrong) == 1 and refused is None:
            raise wrong[0]
        if wrong:
            lines = "".join(f"\n  - {err}" for err in wrong)
            raise ConfigurationTypeError(
                f"invalid configuration ({len(wrong)} setting{'s' if len(wrong) > 1 else ''} of the wrong type):{lines}"
                + (f"\n{refused}" if refused is not None else ""),
                keys=[key for err in wrong for key in err.keys] + (refused.keys if refused is not None else []),
            )
        # A size or duration given as text is the int Go read (__setattr__, the same parser).
        self.endpoint = endpoint
        self.table_name = table_name
        self.client_id = client_id
        self._client_secret = client_secret
        self.unity_catalog_url = unity_catalog_url
        self._proxy_url = proxy_url
        self.tls_ca_file = tls_ca_file
        self.observability_enabled = observability_enabled
        self.observability_config = observability_config
        self.debug_enabled = debug_enabled
        self.debug_arrow_enabled = debug_arrow_enabled
        self.debug_protobuf_enabled = debug_protobuf_enabled
        self.debug_output_dir = debug_output_dir
        self.debug_flush_interval_secs = debug_flush_interval_secs
        self.debug_max_file_size = debug_max_file_size
        #: None: keep every rotated file (the Go core's -1, given in to_settings)
        self.debug_max_files_retained = debug_max_files_retained
        self.debug_arrow_compression = debug_arrow_compression
        self.retry_max_attempts = retry_max_attempts
        self.retry_base_delay_ms = retry_base_delay_ms
        self.retry_max_delay_ms = retry_max_delay_ms
        self.zerobus_writer_disabled = zerobus_writer_disabled
        self.debug_rotation_interval_secs = debug_rotation_interval_secs
        self.max_inflight_requests = max_inflight_requests
        self.max_inflight_bytes = max_inflight_bytes
        self.max_message_bytes = max_message_bytes
        self.max_record_bytes = max_record_bytes
        self.create_timeout_ms = create_timeout_ms
        self.ack_timeout_ms = ack_timeout_ms
        self.flush_timeout_ms = flush_timeout_ms
        self.streams_per_schema = streams_per_schema
        self.all_fields_optional = all_fields_optional
        self.transport = transport
        self.arrow_flight_compression = arrow_flight_compression
        if (debug_enabled or debug_arrow_enabled or debug_protobuf_enabled) and debug_output_dir is None:
            # The original raises here for this problem alone (the others wait for validate(), so settings
            # completed after construction, as Spark's options over the environment, are not refused early).
            _bridge.call(
                _bridge.native.ValidateConfigKeys, self._native_json(warn=False), json.dumps(["debug_output_dir"])
            )

    def _setattr(self, name: str, value: Any) -> None:
        if name in _SEALED and isinstance(value, str):
            # kept as a str whose repr hides the secret (vars(cfg), a debugger, a variable inspector)
            value = _SEALED[name](value)
        # A mistyped setting (cfg.retry_max_attemps = 1) is refused rather than kept and ignored: the original's
        # configuration was read-only, so any assignment raised AttributeError. The settings stay assignable, as
        # do private names and anything the class defines. A subclass's instances take attributes of their own
        # (self.tag = ... in its __init__): the check is the class's own.
        if (
            type(self) is WrapperConfiguration
            and not name.startswith("_")
            and name not in _ATTRS
            and not hasattr(type(self), name)
        ):
            raise AttributeError(f"WrapperConfiguration has no setting {name!r}{_did_you_mean(name, _ATTRS)}")
        if name in _INT_ATTRS and (text := _unit_text(name, int, value)) is not None:
            value = _parsed_units({name: text})[name]  # "64MiB" as the keyword takes it: the int Go reads
        object.__setattr__(self, name, value)

    if not TYPE_CHECKING:  # as ObservabilityConfig's: checkers allow the declared attributes only
        __setattr__ = _setattr

    # -- the secret ------------------------------------------------------

    @property
    def client_secret(self) -> str | None:
        """``"<redacted>"`` when a secret is set, else ``None``. The value
        itself is only handed to the Go core."""
        return REDACTED if self._client_secret else None

    @client_secret.setter
    def client_secret(self, value: str | None) -> None:
        self._client_secret = value

    @property
    def proxy_url(self) -> str | None:
        """The proxy URL with any ``user:password`` shown as ``<redacted>``
        (``None`` when unset). The full value is only handed to the Go core."""
        return _redact_url(self._proxy_url) if isinstance(self._proxy_url, str) else self._proxy_url

    @proxy_url.setter
    def proxy_url(self, value: str | None) -> None:
        self._proxy_url = value

    def _raw(self, attr: str) -> Any:
        """The attribute's value, unredacted for the secret-bearing ones."""
        return getattr(self, "_" + attr if attr in _SECRETS else attr)

    def _shown(self, attr: str) -> Any:
        """The attribute's value as printing may show it, whatever its type."""
        value = self._raw(attr)
        if attr in _url_keys() and isinstance(value, str):
            return _redact_url(value)
        if attr in _SECRETS:
            return REDACTED
        return value

    # -- conversion ------------------------------------------------------

    def _observability(self) -> ObservabilityConfig | None:
        oc = self.observability_config
        if oc is None or isinstance(oc, ObservabilityConfig):
            return oc
        if isinstance(oc, Mapping):
            return ObservabilityConfig.from_mapping(oc)
        raise _observability_type_error(oc)

    def to_settings(self, *, include_secret: bool = False) -> dict[str, Any]:
        """Return the settings as the Go core's YAML keys (only those set).

        The client secret is ``"<redacted>"`` and the proxy URL's
        ``user:password`` is redacted unless ``include_secret``. Raises
        :class:`ConfigurationError` naming the field when a value has the
        wrong Python type.
        """
        return self._settings(include_secret=include_secret, sealed=False)

    def _settings(self, *, include_secret: bool, sealed: bool) -> dict[str, Any]:
        """:meth:`to_settings`; with ``sealed`` the secrets stay the str subclasses whose repr is redacted (the
        settings passed to Go, which a traceback's frame locals may show), else plain ``str``."""
        out: dict[str, Any] = {}
        for attr, key, typ in _FIELDS:
            value = self._raw(attr)
            if value is None and attr == "debug_max_files_retained":
                value = -1  # None keeps every rotated file: the Go core's -1
            if value is None:
                continue
            value = _checked(attr, value, typ, secret=attr in _SECRETS)
            if attr == "client_secret" and not include_secret:
                value = REDACTED if value else value
            if isinstance(value, str) and not sealed:
                value = str(value)  # plain text, not the SecretValue kept in the attribute (yaml.safe_dump, marshal)
            out[key] = value
        obs = self._observability()
        if obs is not None:
            out.update(obs._settings(sealed=sealed))
        if not include_secret:
            for key in _url_keys() & out.keys():
                if isinstance(out[key], str):
                    out[key] = _redact_url(out[key])
        return out

    def _native_json(self, *, warn: bool = True) -> str:
        self._refuse_placeholders()
        settings = self._settings(include_secret=True, sealed=True)
        # Exactly the settings the Go core's one rule names (whatever observability_enabled says), warned about
        # with its reason: those a written log file would use are unused because no file is written (Go's own
        # split, asked of Go), the others because observability_enabled is False. A value Go refuses is not
        # named: it stays in and validation reports it (an invalid value is an error on every surface).
        ignored = _ignored_export_settings(settings)
        rotation: list[str] = []
        if ignored:
            with_file = set(_ignored_export_settings({**settings, "log_file": "zerobus.log"}))
            rotation = [k for k in ignored if k not in with_file]
        export = [k for k in ignored if k not in rotation]
        if export and warn:
            # Export settings that observability_enabled=False leaves unused: a warning, as the Go core logs one
            # (the original ignored the whole observability_config then, so drop-in code may give one).
            warnings.warn(
                f"observability_enabled is False, so {' and '.join(export)} of observability_config "
                f"{'is' if len(export) == 1 else 'are'} ignored: set observability_enabled=True to export",
                UserWarning,
                stacklevel=3,
            )
        if rotation and warn:
            warnings.warn(
                f"no log or telemetry file is written (no log_file, no output_dir exported to), so "
                f"{' and '.join(rotation)} of observability_config {'rotates' if len(rotation) == 1 else 'rotate'} "
                "nothing: set one, or leave them unset",
                UserWarning,
                stacklevel=3,
            )
        for key in ignored:
            del settings[key]
        return SecretText(json.dumps(settings))  # its repr hides the secret from captured frame locals

    def _refuse_placeholders(self) -> None:
        """A secret equal to what the getters show (``"<redacted>"``) is a configuration rebuilt from another
        one's getters, whose secret was never readable: refused here, naming the way that keeps it, instead of
        an authentication failure at the first send."""
        bad = []
        if self._client_secret == REDACTED:
            bad.append("client_secret")
        if isinstance(self._proxy_url, str) and REDACTED + "@" in self._proxy_url:
            bad.append("proxy_url")
        if bad:
            raise ConfigurationError(
                f"{' and '.join(bad)}: {REDACTED!r} is the placeholder the getter shows, not the value (the secret "
                "is never readable back); to change settings of a configuration keep its secret with "
                "config.copy(name=value, ...), or pass the real value",
                keys=bad,
            )

    def validate(self) -> None:
        """Check the formats and combinations of the settings with the Go core's rules.

        Table names of one to three parts, URL schemes, ranges, a debug
        output needs ``debug_output_dir``, ``zerobus_writer_disabled`` needs
        a debug output, settings the transport would ignore
        (``max_record_bytes`` and protobuf-only debug files with
        ``arrow_flight``, ``arrow_flight_compression`` with ``protobuf``).
        Credentials and the full ``catalog.schema.table``
        name are checked when a :class:`~zerobus_py.ZerobusWrapper` that
        sends is created, as in the original Python API.

        Raises :class:`ConfigurationError` listing every problem at once, each
        naming the field, its YAML key and environment variable. Returns None
        when the configuration is valid.
        """
        _bridge.call(_bridge.native.ValidateConfig, self._native_json())

    @classmethod
    def _from_settings(cls, settings: Mapping[str, Any]) -> WrapperConfiguration:
        """The configuration of the Go loader's settings: only the keys the
        file or the environment sets (the others stay unset, as in a
        configuration built in code), so the same settings from code, YAML and
        the environment give equal configurations with the same repr."""
        known = {key: attr for attr, key, _ in _FIELDS}
        kw: dict[str, Any] = {}
        obs: dict[str, Any] = {}
        for key, value in settings.items():
            if key in _OBS_KEYS:
                obs[key] = value
            elif key in known:
                kw[known[key]] = value
            # keys this version of the Python layer does not know are ignored
        cfg = cls(**kw)
        if obs:
            cfg.observability_config = ObservabilityConfig.from_mapping(obs)
        return cfg

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> WrapperConfiguration:
        """Load a YAML file with the Go core's loader (keys as the keyword
        names; ``${ENV_VAR}`` is expanded; unknown keys are errors naming the
        key and file). Unset keys keep their defaults.

        Raises :class:`ConfigurationError`.
        """
        text = _bridge.call(_bridge.native.LoadConfigYAML, os.fspath(path), json.dumps(dict(os.environ)))
        return cls._from_settings(json.loads(text))

    @classmethod
    def from_env(cls) -> WrapperConfiguration:
        """Build from environment variables with the Go core's rules
        (ZEROBUS_ENDPOINT, ZEROBUS_TABLE_NAME, UNITY_CATALOG_URL or
        DATABRICKS_HOST, ZEROBUS_CLIENT_ID, ZEROBUS_CLIENT_SECRET,
        RETRY_MAX_ATTEMPTS, DEBUG_ENABLED, ZEROBUS_WRITER_DISABLED, ...).

        Raises :class:`ConfigurationError` naming each bad variable.
        """
        text = _bridge.call(_bridge.native.ConfigFromEnv, json.dumps(dict(os.environ)))
        return cls._from_settings(json.loads(text))

    def copy(self, **changes: Unpack[_Settings]) -> WrapperConfiguration:
        """Return a copy with some keywords changed (an observability key such as ``log_level`` changes that
        field of the copied ``observability_config``)."""
        given: dict[str, Any] = dict(changes)
        kw: dict[str, Any] = {attr: self._raw(attr) for attr, _, _ in _FIELDS}
        oc = self.observability_config
        if isinstance(oc, ObservabilityConfig) and "observability_config" not in given:
            fields = {attr: given.pop(key) for attr, key, _ in _OBS_FIELDS if key in given}
            if fields:
                oc = dataclasses.replace(oc, **fields)
        kw["observability_config"] = oc
        kw.update(given)
        return type(self)(**kw)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WrapperConfiguration):
            return NotImplemented
        return self.to_settings(include_secret=True) == other.to_settings(include_secret=True)

    __hash__ = None  # type: ignore[assignment]

    def _debug_kinds(self) -> list[str] | None:
        """The kinds of debug files these settings write ("arrow",
        "protobuf"), from the Go core (``core.Config.DebugKinds``); None when
        the settings or the native extension cannot say."""
        try:
            kinds = json.loads(_bridge.call(_bridge.native.DebugKinds, self._native_json(warn=False)))
        except (ImportError, ZerobusError):
            return None
        return [str(k) for k in kinds]

    def _missing(self) -> list[str]:
        """The settings not set: a configuration whose construction failed before setting them (the ``self`` a
        traceback's frame locals show) or has not run (``cls.__new__(cls)``)."""
        attrs = [attr for attr, _, _ in _FIELDS] + ["observability_config"]
        return [attr for attr in attrs if not hasattr(self, "_" + attr if attr in _SECRETS else attr)]

    def __repr__(self) -> str:
        if missing := self._missing():
            # Never raises (Python < 3.12's traceback calls it for capture_locals, and an error there would replace
            # the user's): the settings set so far, if any.
            try:
                shown = [
                    f"{attr}={self._shown(attr)!r}"
                    for attr, _, _ in _FIELDS
                    if attr not in missing and self._raw(attr) is not None
                ]
            except (ImportError, ZerobusError):  # Go cannot say which are URLs (a forked child)
                shown = []
            return f"<WrapperConfiguration incomplete{': ' if shown else ''}{', '.join(shown)}>"
        try:
            items = self.to_settings().items()
        except ConfigurationError:  # a value of the wrong type: show the raw attributes
            items = {attr: self._shown(attr) for attr, _, _ in _FIELDS if self._raw(attr) is not None}.items()
        # The debug switches as given (a per-kind switch left None is not shown):
        # the Go core's rule makes them say which kinds are written (_repr_html_ shows those).
        parts = [
            f"{k}={None if k == 'debug_max_files_retained' and self.debug_max_files_retained is None else v!r}"
            for k, v in items
        ]
        return f"WrapperConfiguration({', '.join(parts)})"

    def _repr_html_(self) -> str:
        """The settings as an HTML table for notebooks (secrets redacted, as in repr).

        The debug switches show as one row of the files that are effectively
        written, as the Go core says (``core.Config.DebugKinds``).
        """
        from ._html import table

        if self._missing():  # construction failed or has not run
            return table("WrapperConfiguration", [("incomplete", repr(self))])
        try:
            settings = self.to_settings()
        except ConfigurationError:  # a value of the wrong type: the repr says which
            return table("WrapperConfiguration", [("invalid", repr(self))])
        on = self._debug_kinds()
        if on is None:  # Go rejects a value: the settings as they are
            return table("WrapperConfiguration", list(settings.items()))
        for key in _DEBUG_SWITCHES:
            settings.pop(key, None)
        kinds = [_KIND_NAME.get(k, k) for k in on]
        rows = [(k, v) for k, v in settings.items() if not k.startswith("debug_") or kinds]
        rows.append(("debug files", " + ".join(kinds) if kinds else "off"))
        return table("WrapperConfiguration", rows)
