"""The deployment's configuration as the app reads it: `.streamlit/secrets.toml`, then the environment."""

import streamlit as st

from ingest import pseudonym_key_from_env


def secrets() -> dict:
    """secrets.toml as a dict ({} when there is none)."""
    try:
        return st.secrets.to_dict()
    except Exception:  # no secrets file: Streamlit raises its own not-found error
        return {}


def pseudonym_key() -> str | None:
    """The key for pseudonymising customer ids: secrets [privacy] pseudonym_key, else the environment."""
    return (secrets().get("privacy") or {}).get("pseudonym_key") or pseudonym_key_from_env()
