//! The stable diagnostic code registry.
//!
//! Codes are part of the public interface (CI filters on them, docs link them), so a
//! code is never reused or renumbered: retire it and take the next free one. Ranges:
//! syntax E00xx, modules E005x, checker E01xx and E02xx, warnings W0xxx.

use super::Severity;

macro_rules! codes {
    ($($variant:ident = $code:literal, $sev:ident, $title:literal;)*) => {
        /// Every diagnostic flowgate can emit.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $($variant,)* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The stable code, e.g. `E0104`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$sev,)* }
            }

            /// A few words naming the problem, as listed in docs/diagnostics.md.
            pub fn title(self) -> &'static str {
                match self { $(Code::$variant => $title,)* }
            }
        }
    };
}

codes! {
    Syntax = "E0001", Error, "syntax error";
    InvalidNumber = "E0002", Error, "number literal out of range";
    InvalidEscape = "E0003", Error, "invalid escape in a string";
    TooDeep = "E0004", Error, "nested too deep";
    UnknownModule = "E0050", Error, "unknown module";
    ImportCycle = "E0051", Error, "import cycle";
    DuplicateImport = "E0052", Error, "module imported twice under one name";
    PathOutside = "E0053", Error, "file outside the directories being checked";
    FileRefused = "E0054", Error, "file that is not read: not a regular file, too large, or not a flow";

    UnknownName = "E0100", Error, "unknown name";
    UnknownType = "E0101", Error, "unknown type";
    UnknownField = "E0102", Error, "unknown field";
    UnknownFunction = "E0103", Error, "unknown function";
    TypeMismatch = "E0104", Error, "type mismatch";
    ArgumentCount = "E0105", Error, "wrong number of arguments";
    DecimalFloatMix = "E0106", Error, "Decimal and Float mixed";
    UnroundedDecimal = "E0107", Error, "unrounded Decimal into a scaled target";
    UnhandledOptional = "E0108", Error, "optional value used without handling its absence";
    MissingField = "E0109", Error, "required target field not given";
    ExtraField = "E0110", Error, "field not in the target type";
    DuplicateDefinition = "E0111", Error, "name defined twice";
    NonExhaustiveMatch = "E0112", Error, "match does not cover every case";
    SecretLeak = "E0113", Error, "secret used outside a header";
    UnknownConnector = "E0114", Error, "unknown source or sink kind";
    UnknownOption = "E0115", Error, "unknown option";
    MissingOption = "E0116", Error, "required option missing";
    InvalidDuration = "E0117", Error, "invalid duration";
    InvalidRate = "E0118", Error, "invalid rate";
    LookupFileMissing = "E0119", Error, "lookup file not found";
    LookupColumnMissing = "E0120", Error, "lookup column not found";
    MissingSource = "E0121", Error, "flow without a source";
    MissingSink = "E0122", Error, "flow without a sink";
    BadOperands = "E0123", Error, "operator does not apply to these types";
    NotCallable = "E0124", Error, "lambda where none is expected, or with the wrong parameters";
    UnknownArgument = "E0125", Error, "unknown named argument";
    NotAList = "E0126", Error, "a list was expected";
    NotInUnion = "E0127", Error, "string is not a member of the union";
    StageOrder = "E0128", Error, "stage in the wrong place";
    NotIndexable = "E0129", Error, "value cannot be indexed";
    InvalidLookup = "E0130", Error, "invalid lookup declaration";
    InvalidType = "E0131", Error, "invalid type";
    UnknownPattern = "E0132", Error, "pattern can never match";
    RoundingModeMissing = "E0133", Error, "rounding without a mode";
    RecursiveType = "E0134", Error, "type refers to itself";
    MultipleSources = "E0135", Error, "more than one source";
    InvalidArgument = "E0136", Error, "invalid regular expression, JSONPath or date format";
    SplitAfterBatch = "E0137", Error, "a batch cannot be split";
    UnknownTimeZone = "E0138", Error, "unknown time zone";
    InvalidTimeOfDay = "E0139", Error, "invalid time of day";
    StateKeyNotString = "E0140", Error, "state key is not a String";
    StateValueType = "E0141", Error, "state value of the wrong type";
    DuplicateState = "E0142", Error, "state declared twice";
    StateTypeNotStorable = "E0143", Error, "state type cannot be remembered";
    UntypedEnrichment = "E0145", Error, "enrichment response used untyped";
    InvalidEnrichSelect = "E0146", Error, "enrichment select is not a JSONPath literal";
    EnrichmentBeforeStage = "E0147", Error, "enrichment used before its stage";
    GroupKey = "E0150", Error, "records cannot be grouped by this key";
    AggregateType = "E0151", Error, "an aggregate cannot fold these values";
    UnknownAggregate = "E0152", Error, "unknown aggregate";
    RecordOutsideAggregate = "E0153", Error, "a record's value used outside an aggregate";
    GroupNeverEnds = "E0154", Error, "a group that never closes or cannot end its records once";

    UnusedLookup = "W0001", Warning, "unused lookup";
    UnusedBinding = "W0002", Warning, "unused binding";
    UnusedImport = "W0003", Warning, "unused import";
    UnusedFunction = "W0004", Warning, "unused function";
    UnreachableStage = "W0005", Warning, "stage after one that always holds";
    NeedlessOptionalHandling = "W0006", Warning, "absence handled on a value that is never absent";
    UnsignedWebhook = "W0007", Warning, "webhook accepts unsigned requests";
    TimeWithoutZone = "W0008", Warning, "date and time read without a zone";
    RememberWithoutState = "W0009", Warning, "`else remember` without a state";
    UnlimitedEnrichment = "W0010", Warning, "enrichment calls out without a rate limit";
    GroupDropsKey = "W0011", Warning, "a group's record does not carry its key";
}
