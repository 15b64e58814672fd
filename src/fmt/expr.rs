//! Expressions. The tree keeps no parentheses, so they are put back where precedence
//! needs them, and only there: `(a + b) * c`, `(if c then 1 else 2) + x`.

use super::doc::{cat, Doc};
use super::{hi, lo, Block, Fmt};
use crate::syntax::ast::*;

/// Binding strength, weakest first, as the grammar's Pratt table has it. `if` and lambdas
/// run to the end of the expression, so as an operand they always need parentheses.
const OPEN_ENDED: u8 = 0;
const NOT: u8 = 3;
const NEG: u8 = 8;
const ATOM: u8 = 9;

fn level(op: BinOp) -> u8 {
    match op {
        BinOp::Or => 1,
        BinOp::And => 2,
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 4,
        BinOp::Coalesce => 5,
        BinOp::Add | BinOp::Sub => 6,
        BinOp::Mul | BinOp::Div | BinOp::Rem => 7,
    }
}

fn strength(e: &Expr) -> u8 {
    match &e.node {
        ExprKind::Binary(op, ..) => level(*op),
        ExprKind::Unary(UnOp::Not, _) => NOT,
        ExprKind::Unary(UnOp::Neg, _) => NEG,
        ExprKind::If { .. } | ExprKind::Lambda { .. } => OPEN_ENDED,
        _ => ATOM,
    }
}

/// Whether the expression's text ends with a `hold` reason, which would take a string
/// written after it on the same line as its message.
pub(super) fn ends_with_hold(e: &Expr) -> bool {
    match &e.node {
        ExprKind::Hold(_) => true,
        ExprKind::Binary(_, _, rhs) | ExprKind::Unary(_, rhs) => ends_with_hold(rhs),
        ExprKind::If { otherwise, .. } => ends_with_hold(otherwise),
        ExprKind::Lambda { body, .. } => ends_with_hold(body),
        _ => false,
    }
}

/// A last argument that may open on the call's line and close on a line of its own:
/// `xs.map(l => {` ... `})`.
fn huggable(e: &Expr) -> bool {
    match &e.node {
        ExprKind::Record(entries) => !entries.is_empty(),
        ExprKind::List(items) => !items.is_empty(),
        ExprKind::Lambda { body, .. } => {
            matches!(&body.node, ExprKind::Record(_) | ExprKind::List(_) | ExprKind::Match { .. })
        }
        _ => false,
    }
}

impl Fmt<'_> {
    pub(super) fn expr(&mut self, e: &Expr) -> Doc {
        let lead = self.lead(lo(e.span));
        cat![lead, self.expr_body(e)]
    }

    /// `e` where only expressions binding at least as strongly as `min` go bare.
    fn operand(&mut self, e: &Expr, min: u8) -> Doc {
        if strength(e) >= min {
            return self.expr(e);
        }
        let lead = self.lead(lo(e.span));
        cat![lead, "(", self.expr_body(e), ")"]
    }

    /// The base of `.field`, `[index]` or `(args)`: an integer would read `1.x` as a
    /// broken number, so it gets parentheses too.
    fn postfix_base(&mut self, e: &Expr) -> Doc {
        if matches!(e.node, ExprKind::Lit(Literal::Int(_))) {
            let lead = self.lead(lo(e.span));
            return cat![lead, "(", self.expr_body(e), ")"];
        }
        self.operand(e, ATOM)
    }

    fn expr_body(&mut self, e: &Expr) -> Doc {
        match &e.node {
            ExprKind::Lit(_) | ExprKind::Str(_) | ExprKind::Name(_) => self.verbatim(e.span),
            ExprKind::Field { base, name, optional } => {
                let base = self.postfix_base(base);
                cat![base, if *optional { "?." } else { "." }, self.verbatim(name.span)]
            }
            ExprKind::Index { base, index, optional } => {
                let base = self.postfix_base(base);
                let index = self.expr(index);
                cat![base, if *optional { "?[" } else { "[" }, index, "]"]
            }
            ExprKind::Call { func, args } => {
                let func = self.postfix_base(func);
                cat![func, self.args(args, hi(e.span))]
            }
            ExprKind::Method { receiver, name, args, optional } => {
                let receiver = self.postfix_base(receiver);
                let name = self.verbatim(name.span);
                cat![receiver, if *optional { "?." } else { "." }, name, self.args(args, hi(e.span))]
            }
            ExprKind::Unary(UnOp::Not, x) => cat!["not ", self.operand(x, NOT)],
            // `-(-x)`: a double minus reads as a typo.
            ExprKind::Unary(UnOp::Neg, x) => cat!["-", self.operand(x, ATOM)],
            ExprKind::Binary(op, ..) => self.binary(e, *op),
            ExprKind::Lambda { params, body } => {
                let params = match params.as_slice() {
                    [one] => self.verbatim(one.span),
                    many => {
                        let names: Vec<&str> = many.iter().map(|p| p.node.as_str()).collect();
                        Doc::text(format!("({})", names.join(", ")))
                    }
                };
                cat![params, " => ", self.expr(body)]
            }
            ExprKind::If { .. } => self.if_chain(e),
            ExprKind::Match { scrutinee, arms } => {
                let scrutinee = self.expr(scrutinee);
                let style = Block { open: "{", close: "}", spaced: true, keep_blank: true, ..Block::LIST };
                let arms = self.block(
                    style,
                    arms,
                    |a| (a.patterns.first().map_or(lo(a.body.span), |p| lo(p.span)), hi(a.body.span)),
                    |f, arm| {
                        let patterns: Vec<String> =
                            arm.patterns.iter().map(|p| f.text[lo(p.span)..hi(p.span)].to_string()).collect();
                        cat![patterns.join(" | "), " => ", f.expr(&arm.body)]
                    },
                    hi(e.span),
                );
                cat!["match ", scrutinee, " ", arms]
            }
            ExprKind::List(items) => {
                self.block(Block::LIST, items, |x| (lo(x.span), hi(x.span)), |f, x| f.expr(x), hi(e.span))
            }
            ExprKind::Record(entries) => self.record(entries, hi(e.span), Block::RECORD),
            ExprKind::Hold(reason) => cat!["hold ", self.reason(reason)],
        }
    }

    pub(super) fn record(&mut self, entries: &[RecordEntry], close: usize, style: Block) -> Doc {
        self.block(
            style,
            entries,
            |entry| match entry {
                RecordEntry::Field(name, value) => (lo(name.span), hi(value.span)),
                RecordEntry::Spread(value) => (lo(value.span), hi(value.span)),
            },
            |f, entry| match entry {
                RecordEntry::Field(name, value) => {
                    let name = f.verbatim(name.span);
                    cat![name, ": ", f.expr(value)]
                }
                RecordEntry::Spread(value) => cat!["..", f.expr(value)],
            },
            close,
        )
    }

    /// `"code" "message"`, as written: the message must stay on the code's line.
    pub(super) fn reason(&mut self, reason: &HoldReason) -> Doc {
        let code = self.verbatim(reason.code.span);
        match &reason.message {
            Some(message) => cat![code, " ", self.verbatim(message.span)],
            None => code,
        }
    }

    /// A chain of one strength (`a + b - c`, `a ?? b ?? c`) on one line, or one operand a
    /// line with its operator in front when it does not fit.
    fn binary(&mut self, e: &Expr, op: BinOp) -> Doc {
        let lvl = level(op);
        let right_assoc = op == BinOp::Coalesce;
        // Operands in written order, each with the operator before it.
        let mut chain: Vec<(Option<BinOp>, &Expr)> = Vec::new();
        let mut cur = e;
        if right_assoc {
            while let ExprKind::Binary(o, l, r) = &cur.node {
                if level(*o) != lvl {
                    break;
                }
                chain.push((Some(*o), l));
                cur = r;
            }
            chain.push((None, cur));
            // The operator written before each operand is the one after the previous.
            let ops: Vec<Option<BinOp>> = chain.iter().map(|(o, _)| *o).collect();
            for (i, item) in chain.iter_mut().enumerate() {
                item.0 = if i == 0 { None } else { ops[i - 1] };
            }
        } else {
            while let ExprKind::Binary(o, l, r) = &cur.node {
                if level(*o) != lvl {
                    break;
                }
                chain.push((Some(*o), r));
                cur = l;
            }
            chain.push((None, cur));
            chain.reverse();
        }
        let last = chain.len() - 1;
        let mut rest = Vec::new();
        let mut first = Doc::Concat(Vec::new());
        for (i, (o, x)) in chain.into_iter().enumerate() {
            // The side that would re-associate needs a stronger operand.
            let min = if (right_assoc && i == last) || (!right_assoc && i == 0) { lvl } else { lvl + 1 };
            let doc = self.operand(x, min);
            match o {
                None => first = doc,
                Some(o) => rest.push(cat![Doc::Line, o.symbol(), " ", doc]),
            }
        }
        Doc::group(cat![first, Doc::nest(Doc::Concat(rest))])
    }

    /// `if a then x else if b then y else z`, or broken with each `then` and `else` on a
    /// line of its own.
    fn if_chain(&mut self, e: &Expr) -> Doc {
        let mut head = Doc::Concat(Vec::new());
        let mut rest = Vec::new();
        let mut cur = e;
        let mut first = true;
        loop {
            match &cur.node {
                ExprKind::If { cond, then, otherwise } => {
                    let lead = if first { Doc::Concat(Vec::new()) } else { self.lead(lo(cur.span)) };
                    let cond = self.expr(cond);
                    let branch = cat![Doc::Line, "then ", self.expr(then)];
                    if first {
                        head = cat!["if ", cond];
                    } else {
                        rest.push(cat![Doc::Line, lead, "else if ", cond]);
                    }
                    rest.push(branch);
                    first = false;
                    cur = otherwise;
                }
                _ => {
                    rest.push(cat![Doc::Line, "else ", self.expr(cur)]);
                    break;
                }
            }
        }
        Doc::group(cat![head, Doc::nest(Doc::Concat(rest))])
    }

    /// Call arguments; a last record, list or lambda building one opens on the call's line.
    pub(super) fn args(&mut self, args: &[Arg], close: usize) -> Doc {
        if let Some((last, init)) = args.split_last() {
            let start = |a: &Arg| match a {
                Arg::Positional(e) => lo(e.span),
                Arg::Named(n, _) => lo(n.span),
            };
            if huggable(last.expr()) && !self.comments.any_before(start(last)) {
                let mut parts = vec![Doc::text("(")];
                for a in init {
                    parts.push(self.arg(a));
                    parts.push(Doc::text(", "));
                }
                parts.push(self.arg(last));
                parts.push(Doc::text(")"));
                return Doc::Concat(parts);
            }
        }
        self.block(
            Block::ARGS,
            args,
            |a| match a {
                Arg::Positional(e) => (lo(e.span), hi(e.span)),
                Arg::Named(n, e) => (lo(n.span), hi(e.span)),
            },
            |f, a| f.arg(a),
            close,
        )
    }

    fn arg(&mut self, a: &Arg) -> Doc {
        match a {
            Arg::Positional(e) => self.expr(e),
            Arg::Named(name, e) => {
                let name = self.verbatim(name.span);
                cat![name, ": ", self.expr(e)]
            }
        }
    }
}
