//! A network of sync nodes in memory: hubs and clients joined by links that deliver frames in
//! order per direction, in whatever interleaving the test chooses, and that can be cut.

#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};

use automerge::{AutoCommit, ChangeHash};
use itinera_core::DocumentId;
use itinera_core::protocol::PeerId;
use itinera_core::sync::{
    AllowAll, ConnectionId, Event, Input, Node, NodeConfig, NodeRole, Output,
};

/// A small, seeded, dependency-free random source (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

pub struct Link {
    pub client: usize,
    pub hub: usize,
    pub id: ConnectionId,
    pub up: bool,
    pub to_hub: VecDeque<Vec<u8>>,
    pub to_client: VecDeque<Vec<u8>>,
}

/// What the test observed, per node.
#[derive(Default)]
pub struct Observed {
    pub ephemeral: Vec<(DocumentId, PeerId, Vec<u8>)>,
    pub unavailable: Vec<DocumentId>,
    pub rejected: usize,
    pub protocol_errors: Vec<String>,
}

pub struct Sim {
    pub nodes: Vec<Node<AllowAll>>,
    pub roles: Vec<NodeRole>,
    /// What each hub has persisted, by document.
    pub stores: Vec<HashMap<DocumentId, AutoCommit>>,
    pub observed: Vec<Observed>,
    pub links: Vec<Link>,
    next_link: ConnectionId,
}

impl Sim {
    pub fn new() -> Self {
        Self {
            nodes: Vec::new(),
            roles: Vec::new(),
            stores: Vec::new(),
            observed: Vec::new(),
            links: Vec::new(),
            next_link: 1,
        }
    }

    pub fn add(&mut self, name: &str, role: NodeRole) -> usize {
        self.nodes
            .push(Node::new(NodeConfig::named(name, role), AllowAll));
        self.roles.push(role);
        self.stores.push(HashMap::new());
        self.observed.push(Observed::default());
        self.nodes.len() - 1
    }

    /// Opens a connection from `client` to `hub`; returns the link index.
    pub fn connect(&mut self, client: usize, hub: usize) -> usize {
        let id = self.next_link;
        self.next_link += 1;
        self.links.push(Link {
            client,
            hub,
            id,
            up: true,
            to_hub: VecDeque::new(),
            to_client: VecDeque::new(),
        });
        self.input(hub, Input::Connected(id));
        self.input(client, Input::Connected(id));
        self.links.len() - 1
    }

    /// Cuts a link: frames in flight are lost, both ends see the disconnect.
    pub fn cut(&mut self, link: usize) {
        if !self.links[link].up {
            return;
        }
        self.links[link].up = false;
        self.links[link].to_hub.clear();
        self.links[link].to_client.clear();
        let (client, hub, id) = (
            self.links[link].client,
            self.links[link].hub,
            self.links[link].id,
        );
        self.input(client, Input::Disconnected(id));
        self.input(hub, Input::Disconnected(id));
    }

    pub fn input(&mut self, node: usize, input: Input) {
        self.nodes[node].handle(input);
        self.collect(node);
    }

    /// Carries out a node's outputs: frames into links, loads from its store.
    pub fn collect(&mut self, node: usize) {
        let outputs = self.nodes[node].take_outputs();
        for output in outputs {
            match output {
                Output::Send { connection, frame } => {
                    if let Some(link) = self.links.iter_mut().find(|l| l.id == connection && l.up) {
                        if link.client == node {
                            link.to_hub.push_back(frame);
                        } else {
                            link.to_client.push_back(frame);
                        }
                    }
                }
                Output::Close { connection } => {
                    if let Some(index) = self.links.iter().position(|l| l.id == connection && l.up)
                    {
                        self.cut(index);
                    }
                }
                Output::Event(event) => self.event(node, event),
            }
        }
    }

    fn event(&mut self, node: usize, event: Event) {
        match event {
            Event::LoadRequested(id) => {
                let stored = self.stores[node].get(&id).cloned();
                self.input(node, Input::Loaded(id, stored.map(Box::new)));
            }
            Event::DocumentChanged(id) => {
                if self.roles[node] == NodeRole::Server {
                    if let Some(doc) = self.nodes[node].document(&id) {
                        let doc = doc.clone();
                        self.stores[node].insert(id, doc);
                    }
                }
            }
            Event::Ephemeral {
                document,
                sender,
                data,
            } => self.observed[node].ephemeral.push((document, sender, data)),
            Event::DocumentUnavailable(id) => self.observed[node].unavailable.push(id),
            Event::Rejected { .. } => self.observed[node].rejected += 1,
            Event::ProtocolError { reason, .. } => self.observed[node].protocol_errors.push(reason),
            Event::PeerJoined { .. } | Event::PeerLeft { .. } => {}
        }
    }

    /// Delivers the oldest frame in one direction of a link; false if there was none.
    pub fn deliver(&mut self, link: usize, to_hub: bool) -> bool {
        let l = &mut self.links[link];
        let frame = if to_hub {
            l.to_hub.pop_front()
        } else {
            l.to_client.pop_front()
        };
        let Some(frame) = frame else { return false };
        let (target, id) = if to_hub {
            (l.hub, l.id)
        } else {
            (l.client, l.id)
        };
        self.input(target, Input::Frame(id, frame));
        true
    }

    /// Frames waiting anywhere.
    pub fn in_flight(&self) -> usize {
        self.links
            .iter()
            .map(|l| l.to_hub.len() + l.to_client.len())
            .sum()
    }

    /// Delivers frames in a random interleaving (in order per direction) until none is left.
    pub fn run_until_quiet(&mut self, rng: &mut Rng) -> usize {
        let mut delivered = 0;
        while self.in_flight() > 0 {
            let busy: Vec<(usize, bool)> = self
                .links
                .iter()
                .enumerate()
                .flat_map(|(i, l)| {
                    let mut v = Vec::new();
                    if !l.to_hub.is_empty() {
                        v.push((i, true));
                    }
                    if !l.to_client.is_empty() {
                        v.push((i, false));
                    }
                    v
                })
                .collect();
            let (link, to_hub) = busy[rng.below(busy.len())];
            self.deliver(link, to_hub);
            delivered += 1;
            assert!(delivered < 1_000_000, "the network never went quiet");
        }
        delivered
    }

    pub fn heads(&mut self, node: usize, id: &DocumentId) -> Option<Vec<ChangeHash>> {
        self.nodes[node]
            .document(id)
            .map(|doc| doc.clone().get_heads())
    }
}

pub fn doc_id(n: u8) -> DocumentId {
    DocumentId::from_bytes([n; 16])
}
