//! The syntax tree of metric expressions.

/// Byte range of a piece of an expression, for error positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Int(i64),
    /// A number with a fractional part, in millionths.
    Decimal(i64),
    /// A duration literal (`24h`, `7d`, `15min`), in seconds.
    Duration(i64),
    Text(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Eq => "=",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(self, BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Literal(Literal, Span),
    /// `field`, `ticket.cause` (through a reference), `this.resolved_at` (inside `exists`).
    Path(Vec<String>, Span),
    /// `$uncontrollable_causes`: an organisation setting.
    Param(String, Span),
    Neg(Box<Expr>, Span),
    Not(Box<Expr>, Span),
    Binary(BinaryOp, Box<Expr>, Box<Expr>, Span),
    IsNull {
        expr: Box<Expr>,
        negated: bool,
        span: Span,
    },
    In {
        expr: Box<Expr>,
        set: InSet,
        negated: bool,
        span: Span,
    },
    Call(String, Vec<Expr>, Span),
    Case {
        arms: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
        span: Span,
    },
    /// `exists(SOURCE where PREDICATE)`: another record of SOURCE satisfies PREDICATE, in
    /// which unqualified names are the other record's fields and `this.` names this one's.
    Exists {
        source: String,
        predicate: Box<Expr>,
        span: Span,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum InSet {
    List(Vec<Expr>),
    Param(String, Span),
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::Literal(_, s)
            | Expr::Path(_, s)
            | Expr::Param(_, s)
            | Expr::Neg(_, s)
            | Expr::Not(_, s)
            | Expr::Binary(_, _, _, s)
            | Expr::Call(_, _, s) => *s,
            Expr::IsNull { span, .. } | Expr::In { span, .. } | Expr::Case { span, .. } | Expr::Exists { span, .. } => {
                *span
            }
        }
    }
}
