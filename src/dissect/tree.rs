//! The dissection tree: named fields with offsets, lengths and a verdict.

/// What a field's value is worth.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Status {
    /// Nothing to check.
    #[default]
    Plain,
    /// A checksum that verifies.
    Good,
    /// A checksum that does not verify; the value it should have.
    Bad {
        /// The right value, e.g. `0x67ca`.
        expected: String,
    },
    /// A field that cannot be right, or bytes that could not be decoded; why.
    Malformed {
        /// Why.
        reason: String,
    },
    /// A field that decodes but breaks a rule of its RFC (a pointer between slots, an
    /// undefined flag), as Wireshark's expert warnings; why. The dissection stays complete.
    Warning {
        /// Why.
        reason: String,
    },
}

impl Status {
    pub(super) fn is_plain(&self) -> bool {
        *self == Status::Plain
    }

    /// Text form: "", "good", "bad (should be 0x1234)", "malformed: ...", "warning: ...".
    pub fn text(&self) -> String {
        match self {
            Status::Plain => String::new(),
            Status::Good => "good".into(),
            Status::Bad { expected } => format!("bad (should be {expected})"),
            Status::Malformed { reason } => format!("malformed: {reason}"),
            Status::Warning { reason } => format!("warning: {reason}"),
        }
    }
}

impl serde::Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text())
    }
}

/// One named field (or a layer, or a group of fields).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Node {
    /// Machine name, Wireshark-style where one exists (`ip.ttl`).
    pub key: String,
    /// Human name (`Time to live`).
    pub name: String,
    /// The value as text (`64`, `0x0800 (IPv4)`).
    pub value: String,
    /// Byte offset in the frame.
    pub offset: usize,
    /// Length in bytes.
    pub len: usize,
    /// Checksum verdict or malformation.
    #[serde(skip_serializing_if = "Status::is_plain")]
    pub status: Status,
    /// Sub-fields.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Node>,
}

impl Node {
    pub(super) fn new(
        key: &str,
        name: &str,
        value: impl Into<String>,
        offset: usize,
        len: usize,
    ) -> Node {
        Node {
            key: key.into(),
            name: name.into(),
            value: value.into(),
            offset,
            len,
            status: Status::Plain,
            children: Vec::new(),
        }
    }

    pub(super) fn with(mut self, status: Status) -> Node {
        self.status = status;
        self
    }

    pub(super) fn warning(mut self, reason: impl Into<String>) -> Node {
        self.status = Status::Warning {
            reason: reason.into(),
        };
        self
    }

    pub(super) fn malformed(mut self, reason: impl Into<String>) -> Node {
        self.status = Status::Malformed {
            reason: reason.into(),
        };
        self
    }

    pub(super) fn push(&mut self, n: Node) {
        self.children.push(n);
    }

    /// Every node of this subtree, depth first, this one first.
    pub fn walk(&self) -> Vec<&Node> {
        let mut out = vec![self];
        for c in &self.children {
            out.extend(c.walk());
        }
        out
    }

    /// Whether this subtree holds a malformed field or undecoded bytes.
    pub fn is_malformed(&self) -> bool {
        self.walk()
            .iter()
            .any(|n| matches!(n.status, Status::Malformed { .. }))
    }
}

/// A dissected frame: its layers, top level first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Dissection {
    /// Frame length in bytes (the frame record's `bytes` in JSON).
    #[serde(skip)]
    pub len: usize,
    /// Ethernet, 802.1Q, ARP / IPv4, ICMP, data, padding, undecoded — in frame order.
    pub layers: Vec<Node>,
    /// False when some bytes could not be decoded or a field is malformed.
    pub complete: bool,
}

impl Dissection {
    /// Every node of every layer, depth first.
    pub fn nodes(&self) -> Vec<&Node> {
        self.layers.iter().flat_map(|l| l.walk()).collect()
    }

    /// The first node with this key.
    pub fn find(&self, key: &str) -> Option<&Node> {
        self.nodes().into_iter().find(|n| n.key == key)
    }
}
